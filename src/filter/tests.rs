use std::collections::BTreeSet;

use super::program::glob_match;
use super::*;

fn nr(name: &str) -> u32 {
    MetadataTable::embedded().by_name(name).unwrap().syscall_nr
}

fn build_one(name: &str, text: &str, strings: bool) -> Result<Arc<CallFilter>, FilterError> {
    let both = BTreeSet::from([nr(name)]);
    let table = MetadataTable::embedded();
    build(
        &FilterSpec::All(text.into()),
        &both,
        &both,
        &table,
        strings,
        &BTreeSet::new(),
    )
    .map(|m| m.values().next().unwrap().clone())
}

fn values(args: [u64; 6], ret: i64) -> Values<'static> {
    Values {
        args,
        ret,
        nr: 0,
        tid: 42,
        string: &|_| None,
    }
}

#[test]
fn decides_as_the_c_types_read() {
    let f = build_one("read", "fd == 3 && count >= 4096", false).unwrap();
    assert!(!f.at_exit);
    assert!(f.pass(&values([3, 0, 8192, 0, 0, 0], 0)));
    assert!(!f.pass(&values([3, 0, 100, 0, 0, 0], 0)));
    // fd is an unsigned int: the upper bits of the register are not read.
    assert!(f.pass(&values([0xdead_0000_0003, 0, 4096, 0, 0, 0], 0)));
    // openat's dfd is an int: AT_FDCWD is -100.
    let f = build_one("openat", "dfd == -100 || flags & 0x40", false).unwrap();
    assert!(f.pass(&values([(-100i64) as u64, 0, 0, 0, 0, 0], 0)));
    assert!(f.pass(&values([0xffff_ff9c, 0, 0, 0, 0, 0], 0)));
    assert!(f.pass(&values([3, 0, 0o100, 0, 0, 0], 0)));
    assert!(!f.pass(&values([3, 0, 1, 0, 0, 0], 0)));
}

#[test]
fn ret_is_decided_at_exit() {
    let f = build_one("openat", "ret < 0 && !(ret == -2)", false).unwrap();
    assert!(f.at_exit);
    assert!(f.pass(&values([0; 6], -13)));
    assert!(!f.pass(&values([0; 6], -2)));
    assert!(!f.pass(&values([0; 6], 3)));
    let f = build_one("read", "common_pid == 42 && __syscall_nr == 0", false).unwrap();
    assert!(f.pass(&values([0; 6], 0)));
}

#[test]
fn errors_name_the_field_and_the_spot() {
    let e = build_one("read", "fd == 3 && fx > 1", false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter 'fd == 3 && fx > 1': unknown field 'fx' at column 12"
    );
    let e = build_one("openat", "filename == 3", true).unwrap_err();
    assert_eq!(e.column, 13);
    assert!(e.message.contains("string"), "{e}");
    let e = build_one("read", "fd ~ \"x\"", true).unwrap_err();
    assert!(e.message.contains("number"), "{e}");
    let e = build_one("read", "fd == \"x\"", true).unwrap_err();
    assert_eq!(e.column, 7);
    let e = build_one("openat", "filename ~ \"/etc/*\"", false).unwrap_err();
    assert!(e.message.contains("strings=True"), "{e}");
    let e = build_one("read", "fd == 5000000000", false).unwrap_err();
    assert!(e.message.contains("range"), "{e}");
    // ret is an exit field: a session tracing only the enter has none.
    let only_enter = BTreeSet::from([nr("read")]);
    let e = build(
        &FilterSpec::All("ret < 0".into()),
        &only_enter,
        &BTreeSet::new(),
        &MetadataTable::embedded(),
        false,
        &BTreeSet::new(),
    )
    .unwrap_err();
    assert!(e.message.contains("exit"), "{e}");
}

#[test]
fn a_filter_for_all_applies_where_its_fields_are() {
    let all = BTreeSet::from([nr("read"), nr("getpid")]);
    let table = MetadataTable::embedded();
    let m = build(
        &FilterSpec::All("fd == 3".into()),
        &all,
        &all,
        &table,
        false,
        &BTreeSet::new(),
    )
    .unwrap();
    assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![nr("read")]);
    let per = FilterSpec::PerSyscall([(nr("getpid"), "fd == 3".to_string())].into());
    assert!(build(&per, &all, &all, &table, false, &BTreeSet::new()).is_err());
}

#[test]
fn strings_are_decided_in_user_space() {
    let f = build_one(
        "openat",
        "filename ~ \"/etc/*\" && !(filename == \"/etc/x\")",
        true,
    )
    .unwrap();
    let with = |s: &'static [u8]| {
        let string = move |_| Some(s);
        f.pass(&Values {
            string: &string,
            ..values([0; 6], 0)
        })
    };
    assert!(with(b"/etc/passwd"));
    assert!(!with(b"/etc/x"));
    assert!(!with(b"/usr/etc/passwd"));
    // The programs let through whatever might match: the glob reads true,
    // the negated test false.
    let k = kernel_filter([&*f]).unwrap();
    let codes: Vec<u8> = k.ops[..k.len as usize].iter().map(|o| o.code).collect();
    assert_eq!(codes, vec![5, 6, 4, 2]);
}

#[test]
fn kernel_filters_or_the_sessions() {
    let a = build_one("read", "fd == 3", false).unwrap();
    let b = build_one("read", "ret < 0", false).unwrap();
    let k = kernel_filter([&*a, &*b]).unwrap();
    assert_eq!(k.len, 3);
    assert_eq!(k.mode, 2, "decided at exit when one session names ret");
    let long = (0..40)
        .map(|i| format!("fd == {i}"))
        .collect::<Vec<_>>()
        .join(" || ");
    let c = build_one("read", &long, false).unwrap();
    assert!(kernel_filter([&*c]).is_none(), "too long for the programs");
}

#[test]
fn globs_as_the_kernel() {
    for (p, s, m) in [
        ("/etc/*", "/etc/passwd", true),
        ("*passwd", "/etc/passwd", true),
        ("*etc*", "/etc/passwd", true),
        ("/etc/?asswd", "/etc/passwd", true),
        ("/etc/[a-p]asswd", "/etc/passwd", true),
        ("/etc/[!p]asswd", "/etc/passwd", false),
        ("/etc/*", "/usr/etc", false),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "aXbY", false),
        ("", "", true),
    ] {
        assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), m, "{p} {s}");
    }
}

#[test]
fn and_every_ands_a_status_into_every_traced_syscall() {
    let all = BTreeSet::from([nr("read"), nr("getpid"), nr("exit_group")]);
    let exempt = BTreeSet::from([nr("exit_group")]);
    let table = MetadataTable::embedded();
    let mut m = build(
        &FilterSpec::All("fd == 3".into()),
        &all,
        &all,
        &table,
        false,
        &exempt,
    )
    .unwrap();
    and_every(
        &mut m,
        "ret < 0 && ret >= -4095",
        (&all, &all),
        &table,
        &exempt,
    )
    .unwrap();
    // read: both; getpid (no fd): the status alone; exit_group: exempt.
    assert_eq!(
        m.keys().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([nr("read"), nr("getpid")])
    );
    let read = &m[&nr("read")];
    assert!(read.at_exit && read.text == "(fd == 3) && (ret < 0 && ret >= -4095)");
    let pass = |f: &CallFilter, fd: u64, ret: i64| f.pass(&values([fd, 0, 0, 0, 0, 0], ret));
    assert!(pass(read, 3, -9));
    assert!(!pass(read, 3, 1) && !pass(read, 4, -9) && !pass(read, 3, -5000));
    let getpid = &m[&nr("getpid")];
    assert!(pass(getpid, 7, -1) && !pass(getpid, 7, 1));
    // The status must compile for each: not without the exit.
    let mut none = BTreeMap::new();
    let e = and_every(
        &mut none,
        "ret < 0",
        (&all, &BTreeSet::new()),
        &table,
        &exempt,
    );
    assert!(e.unwrap_err().message.contains("exit"));
}
