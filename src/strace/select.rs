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
/// class names, `/REGEX`es of names, `all` and `none`; a leading `!`
/// selects all but the set. As strace's, an item may start with `?` (no
/// error when it matches nothing) and end with `@64` (this architecture's
/// own calls, the only ones traced: `@32` and `@x32` are refused).
pub fn trace_set(value: &str) -> Result<Selection> {
    let (negate, list) = match value.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut selection = Selection::default();
    for item in list.split(',').map(str::trim) {
        let (optional, item) = match item.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        match trace_item(item) {
            Ok(one) => selection = selection.union(&one),
            Err(_) if optional && !item.is_empty() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(if negate {
        selection.complement()
    } else {
        selection
    })
}

/// One item of a trace set, without its `?`.
fn trace_item(item: &str) -> Result<Selection> {
    let item = match item.rsplit_once('@') {
        Some((name, "64")) => name,
        Some((_, personality @ ("32" | "x32"))) => {
            return Err(Error::InvalidArgument(format!(
                "'{item}': the {personality}-bit (compat) calls are not traced; \
                 @64 selects this architecture's own"
            )))
        }
        _ => item,
    };
    match item {
        "" => Err(Error::InvalidArgument("empty syscall name".into())),
        "all" => Ok(Selection::all()),
        "none" => Ok(Selection::default()),
        _ => Ok(resolve_spec(Spec::Name(item))?.0),
    }
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
        assert!(trace_set("read,,write").is_err());
        // strace's `?` (no error for what matches nothing) and `@64`.
        let read = BTreeSet::from([nr("read")]);
        assert_eq!(trace_set("?nosuchcall,read").unwrap().enter, read);
        assert_eq!(trace_set("?%bogus,?/^zz,read@64").unwrap().enter, read);
        assert_eq!(trace_set("?read@64").unwrap().exit, read);
        assert!(trace_set("?,read").is_err());
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
