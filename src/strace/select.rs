//! What a user names to trace, as syscall numbers per phase: the one
//! resolution behind `systrace.enable()`, `systrace.SyscallSet` and the
//! command's `-e trace=`. A name is a syscall ("read", "sys_read", the
//! kernel's "newfstat"; both phases), a trace event ("sys_enter_read": that
//! phase only) or one of strace's classes ("%file"; both phases).
use std::collections::BTreeSet;

use super::classes::{class_syscalls, CLASS_NAMES};
use crate::error::{Error, Result};
use crate::kernel::Phase;
use crate::metadata::names;

/// Syscall numbers selected at enter and at exit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selection {
    pub enter: BTreeSet<u32>,
    pub exit: BTreeSet<u32>,
}

/// One item of what the user named.
#[derive(Clone, Copy, Debug)]
pub enum Spec<'a> {
    /// A syscall, event or class name.
    Name(&'a str),
    /// A syscall number (both phases).
    Nr(i64),
    /// A selection made before (`systrace.SyscallSet`), phases as they are.
    Set(&'a Selection),
}

/// Which phases of a spec are selected.
enum Phases {
    /// Both, or what enable()'s enter/exit flags keep: syscalls, numbers, classes.
    Flags,
    /// An event name's own phase.
    Event(Phase),
    /// A selection's own phases.
    AsIs,
}

impl Selection {
    /// Every syscall number, named or not, both phases.
    pub fn all() -> Self {
        let all = names::every_number();
        Selection {
            enter: all.clone(),
            exit: all,
        }
    }

    /// Adds `nrs` in `phase`, or in both phases for None.
    pub fn add(&mut self, nrs: &BTreeSet<u32>, phase: Option<Phase>) {
        if phase != Some(Phase::Exit) {
            self.enter.extend(nrs);
        }
        if phase != Some(Phase::Enter) {
            self.exit.extend(nrs);
        }
    }

    /// Both selections.
    pub fn union(&self, other: &Selection) -> Selection {
        Selection {
            enter: &self.enter | &other.enter,
            exit: &self.exit | &other.exit,
        }
    }

    /// Everything this selection leaves out, phase by phase.
    pub fn complement(&self) -> Selection {
        let all = Selection::all();
        Selection {
            enter: &all.enter - &self.enter,
            exit: &all.exit - &self.exit,
        }
    }

    /// The syscalls selected in either phase.
    pub fn nrs(&self) -> BTreeSet<u32> {
        &self.enter | &self.exit
    }

    pub fn is_empty(&self) -> bool {
        self.enter.is_empty() && self.exit.is_empty()
    }

    pub fn contains(&self, nr: u32, phase: Phase) -> bool {
        match phase {
            Phase::Enter => self.enter.contains(&nr),
            Phase::Exit => self.exit.contains(&nr),
        }
    }

    /// Whether everything `item` names is selected (in its phases).
    pub fn includes(&self, item: Spec<'_>) -> Result<bool> {
        let (other, _) = resolve_spec(item)?;
        Ok(other.enter.is_subset(&self.enter) && other.exit.is_subset(&self.exit))
    }

    /// Names that select exactly this: syscalls selected in both phases by
    /// name, the others by event name.
    pub fn names(&self) -> Vec<String> {
        self.nrs()
            .into_iter()
            .map(|nr| {
                let name = names::display_name(nr);
                match (self.enter.contains(&nr), self.exit.contains(&nr)) {
                    (true, true) => name.into_owned(),
                    (true, false) => format!("sys_enter_{name}"),
                    _ => format!("sys_exit_{name}"),
                }
            })
            .collect()
    }
}

/// The selection of one item, both phases (but for an event name or a
/// selection), and how enable()'s flags apply to it.
fn resolve_spec(item: Spec<'_>) -> Result<(Selection, Phases)> {
    let both = |nrs: BTreeSet<u32>| Selection {
        enter: nrs.clone(),
        exit: nrs,
    };
    match item {
        Spec::Set(selection) => Ok((selection.clone(), Phases::AsIs)),
        Spec::Nr(nr) => Ok((both(BTreeSet::from([names::check_nr(nr)?])), Phases::Flags)),
        Spec::Name(name) if name.trim_start().starts_with('%') => {
            Ok((both(class_nrs(name.trim())?), Phases::Flags))
        }
        Spec::Name(name) if name.starts_with('/') => {
            Ok((both(regex_nrs(&name[1..])?), Phases::Flags))
        }
        Spec::Name(name) => match names::resolve_event(name)? {
            (nr, None) => Ok((both(BTreeSet::from([nr])), Phases::Flags)),
            (nr, Some(phase)) => {
                let mut one = Selection::default();
                one.add(&BTreeSet::from([nr]), Some(phase));
                Ok((one, Phases::Event(phase)))
            }
        },
    }
}

/// The syscalls of strace's class `class` ("%file") on this architecture.
fn class_nrs(class: &str) -> Result<BTreeSet<u32>> {
    let syscalls = class_syscalls(class).ok_or_else(|| {
        let known: Vec<String> = CLASS_NAMES.iter().map(|(n, _)| format!("%{n}")).collect();
        Error::InvalidArgument(format!(
            "unknown syscall class '{class}'; the classes are {}",
            known.join(" ")
        ))
    })?;
    // strace's names: some are not syscalls of this architecture.
    Ok(syscalls
        .into_iter()
        .filter_map(|name| names::resolve(name).ok())
        .collect())
}

/// The syscalls whose names match `pattern` anywhere (strace's
/// `-e trace=/stat`); an error when none does, as strace's.
fn regex_nrs(pattern: &str) -> Result<BTreeSet<u32>> {
    let re = regex_lite::Regex::new(pattern).map_err(|e| {
        Error::InvalidArgument(format!("invalid regular expression '/{pattern}': {e}"))
    })?;
    let nrs: BTreeSet<u32> = names::all_syscalls()
        .into_iter()
        .filter(|&nr| names::syscall_name(nr).is_some_and(|name| re.is_match(name)))
        .collect();
    if nrs.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "no syscall name matches the regular expression '/{pattern}'"
        )));
    }
    Ok(nrs)
}

/// What `enable(*specs, enter=, exit=)` traces: every syscall when `specs`
/// is empty; `enter`/`exit` restrict the syscalls and classes, while an
/// event name selects its own phase (and contradicting the flags is an
/// error).
pub fn select<'a>(
    specs: impl IntoIterator<Item = Spec<'a>>,
    enter: bool,
    exit: bool,
) -> Result<Selection> {
    if !enter && !exit {
        return Err(Error::InvalidArgument(
            "enter=False and exit=False traces nothing: keep at least one".into(),
        ));
    }
    let flags = match (enter, exit) {
        (true, true) => None,
        (true, false) => Some(Phase::Enter),
        _ => Some(Phase::Exit),
    };
    let mut selection = Selection::default();
    let mut any = false;
    for spec in specs {
        any = true;
        let (one, phases) = resolve_spec(spec)?;
        match (phases, flags) {
            (Phases::Flags, Some(only)) => selection.add(&one.enter, Some(only)),
            (Phases::Event(p), Some(only)) if p != only => {
                return Err(Error::InvalidArgument(format!(
                    "'{}' is an {} event, but {}=False",
                    one.names().join(""),
                    p.name(),
                    p.name()
                )));
            }
            _ => selection = selection.union(&one),
        }
    }
    if !any {
        selection.add(&names::every_number(), flags);
    }
    Ok(selection)
}

/// The set of strace's `-e trace=SET`: comma-separated syscall, event and
/// class names, syscall numbers, `/REGEX`es of names and `all`, or `none`
/// alone; each leading `!` inverts the set. As strace's, an item may start
/// with `?` (no error when it matches nothing) and end with `@64` (this
/// architecture's own calls, the only ones traced: `@32` and `@x32` are
/// refused), and empty items are skipped (strace splits with strtok).
pub fn trace_set(value: &str) -> Result<Selection> {
    let list = value.trim_start_matches('!');
    let negate = (value.len() - list.len()) % 2 == 1;
    let mut selection = Selection::default();
    let mut any = false;
    // strace's qualify_syscall_tokens: `none` is a whole set, not an item.
    if list != "none" {
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            any = true;
            let bare = item.trim_start_matches('?');
            match trace_item(bare) {
                Ok(one) => selection = selection.union(&one),
                Err(_) if bare.len() < item.len() => {}
                Err(err) => return Err(err),
            }
        }
        if !any {
            return Err(Error::InvalidArgument(format!(
                "invalid system call '{value}'"
            )));
        }
    }
    Ok(if negate {
        selection.complement()
    } else {
        selection
    })
}

/// strace's names, on x86_64, of the syscalls of its other personalities
/// (i386, x32) that x86_64 has not: strace looks a name up in every
/// personality's table and refuses only one that none has, so these select
/// nothing here (the 32-bit calls are not traced) and are no error.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const OTHER_PERSONALITIES_NAMES: &[&str] = &[
    "_llseek", "_newselect", "bdflush", "break", "chown32", "clock_adjtime64",
    "clock_getres_time64", "clock_gettime64", "clock_nanosleep_time64", "clock_settime64",
    "fadvise64_64", "fchown32", "fcntl64", "fstat64", "fstatat64", "fstatfs64", "ftime",
    "ftruncate64", "futex_time64", "getegid32", "geteuid32", "getgid32", "getgroups32",
    "getresgid32", "getresuid32", "getuid32", "gtty", "idle", "io_pgetevents_time64", "ipc",
    "lchown32", "lock", "lstat64", "mmap2", "mpx", "mq_timedreceive_time64", "mq_timedsend_time64",
    "nice", "oldfstat", "oldlstat", "oldolduname", "oldstat", "olduname", "ppoll_time64", "prof",
    "profil", "pselect6_time64", "readdir", "recv", "recvmmsg_time64", "rt_sigtimedwait_time64",
    "sched_rr_get_interval_time64", "semtimedop_time64", "send", "setfsgid32", "setfsuid32",
    "setgid32", "setgroups32", "setregid32", "setresgid32", "setresuid32", "setreuid32",
    "setuid32", "sgetmask", "sigaction", "signal", "sigpending", "sigprocmask", "sigreturn",
    "sigsuspend", "socketcall", "ssetmask", "stat64", "statfs64", "stime", "stty",
    "timer_gettime64", "timer_settime64", "timerfd_gettime64", "timerfd_settime64", "truncate64",
    "ugetrlimit", "ulimit", "utimensat_time64", "vm86", "vm86old", "waitpid",
];
/// ... and the numbers those tables have that x86_64's has not (strace
/// 6.1: i386's up to 450, x32's 512 to 547).
#[cfg(target_arch = "x86_64")]
const OTHER_PERSONALITIES_NRS: &[std::ops::RangeInclusive<u32>] =
    &[335..=386, 393..=414, 416..=423, 512..=547];
#[cfg(not(target_arch = "x86_64"))]
const OTHER_PERSONALITIES_NAMES: &[&str] = &[];
#[cfg(not(target_arch = "x86_64"))]
const OTHER_PERSONALITIES_NRS: &[std::ops::RangeInclusive<u32>] = &[];

/// One item of a trace set, without its `?`.
fn trace_item(item: &str) -> Result<Selection> {
    let (item, own) = match item.rsplit_once('@') {
        Some((name, "64")) => (name, true),
        Some((_, personality @ ("32" | "x32"))) => {
            return Err(Error::InvalidArgument(format!(
                "'{item}': the {personality}-bit (compat) calls are not traced; \
                 @64 selects this architecture's own"
            )))
        }
        _ => (item, false),
    };
    match item {
        "" => Err(Error::InvalidArgument("empty syscall name".into())),
        "all" => Ok(Selection::all()),
        _ if item.starts_with(|c: char| c.is_ascii_digit()) => trace_number(item, own),
        // strace's legacy class names, looked up before syscall names.
        "desc" | "file" | "memory" | "process" | "signal" | "ipc" | "network" => {
            trace_item(&format!("%{item}"))
        }
        _ if !own && OTHER_PERSONALITIES_NAMES.contains(&item) => Ok(Selection::default()),
        _ => match resolve_spec(Spec::Name(item)) {
            Ok((one, _)) => Ok(one),
            // A pattern that matches only other personalities' names.
            Err(_)
                if !own
                    && item.strip_prefix('/').is_some_and(|p| {
                        regex_lite::Regex::new(p).is_ok_and(|re| {
                            OTHER_PERSONALITIES_NAMES.iter().any(|n| re.is_match(n))
                        })
                    }) =>
            {
                Ok(Selection::default())
            }
            Err(err) => Err(err),
        },
    }
}

/// A syscall number of a trace set (strace's: decimal digits only): the
/// syscall of that number here; nothing for one that only strace's other
/// personalities have; an error for one that no table has.
fn trace_number(item: &str, own: bool) -> Result<Selection> {
    let nr = item
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| item.parse::<u32>().ok())
        .flatten();
    if let Some(nr) = nr {
        if let Ok(nr) = names::check_nr(nr.into()) {
            let nrs = BTreeSet::from([nr]);
            return Ok(Selection {
                enter: nrs.clone(),
                exit: nrs,
            });
        }
        if !own && OTHER_PERSONALITIES_NRS.iter().any(|r| r.contains(&nr)) {
            return Ok(Selection::default());
        }
    }
    Err(Error::UnknownSyscall {
        name: item.to_owned(),
        suggestions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nr(name: &str) -> u32 {
        names::resolve(name).unwrap()
    }

    #[test]
    fn regular_expressions_of_names() {
        let s = trace_set("/^(l|f|new)?stat$,read").unwrap();
        let want: BTreeSet<u32> = ["newstat", "newlstat", "newfstat", "read"]
            .iter()
            .filter_map(|n| names::resolve(n).ok())
            .collect();
        assert_eq!(s.enter, want);
        assert!(trace_set("/xattr")
            .unwrap()
            .enter
            .contains(&nr("fgetxattr")));
        let none = trace_set("/^nosuchcall$").unwrap_err().to_string();
        assert!(none.contains("no syscall name matches"), "{none}");
        let bad = trace_set("/(").unwrap_err().to_string();
        assert!(bad.contains("invalid regular expression '/('"), "{bad}");
    }

    #[test]
    fn names_events_and_classes() {
        let s = select(
            [Spec::Name("read"), Spec::Name("sys_exit_write")],
            true,
            true,
        )
        .unwrap();
        assert_eq!(s.enter, BTreeSet::from([nr("read")]));
        assert_eq!(s.exit, BTreeSet::from([nr("read"), nr("write")]));
        assert_eq!(s.names(), ["read", "sys_exit_write"]);
        // The flags restrict plain names, not events.
        let s = select(
            [Spec::Name("read"), Spec::Name("sys_exit_write")],
            false,
            true,
        )
        .unwrap();
        assert_eq!(s.enter, BTreeSet::new());
        assert_eq!(s.exit, BTreeSet::from([nr("read"), nr("write")]));
        let err = select([Spec::Name("sys_enter_read")], false, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'sys_enter_read' is an enter event, but enter=False"
        );
        let file = select([Spec::Name("%file")], true, true).unwrap();
        assert!(file.enter.contains(&nr("openat")) && !file.enter.contains(&nr("read")));
        assert_eq!(file.enter, file.exit);
        assert_eq!(
            select([Spec::Name("%net")], true, true).unwrap(),
            select([Spec::Name("%network")], true, true).unwrap()
        );
        let err = select([Spec::Name("%bogus")], true, true).unwrap_err();
        assert!(err
            .to_string()
            .contains("unknown syscall class '%bogus'; the classes are %desc %file"));
        assert!(select([Spec::Nr(-1)], true, true).is_err());
        // Every number, as strace traces those it has no name for.
        assert_eq!(
            select([], true, false).unwrap().enter,
            names::every_number()
        );
        assert!(select([], true, false).unwrap().exit.is_empty());
        assert!(select([], false, false).is_err());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn numbers_as_strace_takes_them() {
        let openat = BTreeSet::from([nr("openat")]);
        assert_eq!(trace_set("257").unwrap().enter, openat);
        assert_eq!(trace_set("00257").unwrap().exit, openat);
        assert_eq!(trace_set("0").unwrap().enter, BTreeSet::from([0]));
        assert!(!trace_set("!0").unwrap().enter.contains(&0));
        assert_eq!(
            trace_set("read,257").unwrap().enter,
            BTreeSet::from([0, 257])
        );
        assert_eq!(trace_set("257@64").unwrap().enter, openat);
        // Numbers of strace's i386 and x32 tables only: nothing, no error.
        for other in ["386", "393", "423", "512", "547"] {
            assert!(trace_set(other).unwrap().is_empty(), "{other}");
        }
        // Numbers no table has, and what strace does not read as one.
        for bad in [
            "387",
            "415",
            "548",
            "1023",
            "4294967296",
            "0x10",
            "1e",
            "257@32",
        ] {
            assert!(trace_set(bad).is_err(), "{bad}");
        }
        assert!(trace_set("?548,read").is_ok());
        assert!(trace_set("512@64").is_err());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn other_personalities_names_select_nothing() {
        let stat = trace_set("stat,stat64,lstat,lstat64,fstat,fstat64,newfstatat").unwrap();
        let want: BTreeSet<u32> = ["stat", "lstat", "fstat", "newfstatat"]
            .into_iter()
            .map(nr)
            .collect();
        assert_eq!(stat.enter, want);
        for name in [
            "socketcall",
            "oldstat",
            "fadvise64_64",
            "mmap2",
            "fstatat64",
        ] {
            assert!(trace_set(name).unwrap().is_empty(), "{name}");
            assert!(trace_set(&format!("{name}@64")).is_err(), "{name}@64");
        }
        // None of them is a name of this architecture's.
        for name in OTHER_PERSONALITIES_NAMES {
            assert!(names::resolve(name).is_err(), "{name}");
        }
        assert!(trace_set("/stat64$").unwrap().is_empty());
        assert!(trace_set("/^nosuchcall").is_err());
        assert!(trace_set("nosuchcall").is_err());
        // strace's class names of old, before the syscall names.
        assert_eq!(trace_set("file").unwrap(), trace_set("%file").unwrap());
        assert_eq!(
            trace_set("signal@64").unwrap(),
            trace_set("%signal").unwrap()
        );
    }

    #[test]
    fn strace_trace_sets() {
        let s = trace_set("openat,sys_enter_read").unwrap();
        assert_eq!(s.enter, BTreeSet::from([nr("read"), nr("openat")]));
        assert_eq!(s.exit, BTreeSet::from([nr("openat")]));
        let not = trace_set("!sys_enter_read").unwrap();
        assert!(!not.enter.contains(&nr("read")) && not.exit.contains(&nr("read")));
        assert_eq!(trace_set("all").unwrap(), Selection::all());
        assert!(trace_set("none").unwrap().is_empty());
        assert_eq!(trace_set("!none").unwrap(), Selection::all());
        // A number without a name: in "all" and in a negation, shown and
        // named as strace names it, and that name selects it again.
        let unnamed = (0..crate::kernel::layout::NR_SYSCALLS as u32)
            .find(|&n| names::syscall_name(n).is_none())
            .unwrap();
        assert!(trace_set("!read").unwrap().enter.contains(&unnamed));
        let name = format!("syscall_{unnamed:#x}");
        assert_eq!(
            Selection::all()
                .names()
                .iter()
                .filter(|n| **n == name)
                .count(),
            1
        );
        assert_eq!(trace_set(&name).unwrap().enter, BTreeSet::from([unnamed]));
        assert!(trace_set("syscall_0x1").is_err()); // write has a name
                                                    // strace's strtok: empty items are skipped, but some item is needed.
        assert_eq!(
            trace_set("read,,write,").unwrap(),
            trace_set("read,write").unwrap()
        );
        assert!(trace_set(",").is_err() && trace_set("").is_err());
        // `none` only as the whole set; `all` is an item too; each `!` inverts.
        assert!(trace_set("none,read").is_err());
        assert_eq!(trace_set("all,read").unwrap(), Selection::all());
        assert_eq!(trace_set("!!read").unwrap(), trace_set("read").unwrap());
        assert_eq!(trace_set("!!!none").unwrap(), Selection::all());
        // strace's `?` (no error for what matches nothing) and `@64`.
        let read = BTreeSet::from([nr("read")]);
        assert_eq!(trace_set("?nosuchcall,read").unwrap().enter, read);
        assert_eq!(trace_set("?%bogus,?/^zz,read@64").unwrap().enter, read);
        assert_eq!(trace_set("?read@64").unwrap().exit, read);
        assert_eq!(trace_set("?,??read").unwrap().enter, read);
        assert!(trace_set("?none").unwrap().is_empty());
        assert!(trace_set("nosuchcall,read").is_err());
        let err = trace_set("read@32").unwrap_err().to_string();
        assert!(
            err.contains("32-bit (compat) calls are not traced"),
            "{err}"
        );
        assert!(trace_set("?read@x32").unwrap().is_empty());
        assert_eq!(trace_set("%file@64").unwrap(), trace_set("%file").unwrap());
        assert!(trace_set("/^rea(").is_err());
        assert!(trace_set("%bogus").is_err());
        assert!(s.includes(Spec::Name("sys_enter_read")).unwrap());
        assert!(!s.includes(Spec::Name("read")).unwrap());
        assert!(trace_set("%file")
            .unwrap()
            .includes(Spec::Name("%file"))
            .unwrap());
        // A selection keeps its phases; the flags restrict the names only.
        let s = select([Spec::Set(&s), Spec::Name("close")], false, true).unwrap();
        assert_eq!(s.enter, BTreeSet::from([nr("read"), nr("openat")]));
        assert_eq!(s.exit, BTreeSet::from([nr("openat"), nr("close")]));
    }
}
