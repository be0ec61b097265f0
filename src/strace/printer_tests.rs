//! The printer against synthetic events.
use super::*;
use crate::kernel::decode::decode;
use crate::kernel::decode::tests::{enter_record, exit_record};

#[cfg(target_arch = "x86_64")]
#[test]
fn pairs_prefixes_and_tells_exits() {
    let close = |tid: i32| decode(&enter_record(3, &[7], 100, tid)).unwrap();
    let closed = |tid: i32| decode(&exit_record(3, -9, 100, tid)).unwrap();
    let mut exit_group = decode(&enter_record(231, &[0x102], 100, 101)).unwrap();
    exit_group.timestamp_ns = 50;
    let mut printer = Printer::new(PrinterOptions::default());
    let mut out = String::new();
    printer.feed(&[close(100), closed(100)], &mut out);
    assert_eq!(
        out,
        "close(7)                                = -1 EBADF (Bad file descriptor)\n"
    );
    out.clear();
    // Two threads: "[pid N] " on each line, then the process's end.
    printer.feed(&[close(101), closed(101), exit_group], &mut out);
    assert_eq!(
        out,
        "[pid   101] close(7)                    = -1 EBADF (Bad file descriptor)\n\
         [pid   101] exit_group(258)             = ?\n\
         +++ exited with 2 +++\n"
    );
    assert!(printer.live().is_empty());
    assert_eq!(printer.exited().get(&100), Some(&2));

    // -ttt: the end carries the time of the exit_group, as strace's.
    let mut printer = Printer::new(PrinterOptions {
        timestamps: 3,
        prefix: PidPrefix::Always,
        ..Default::default()
    });
    let mut exit_group = decode(&enter_record(231, &[3], 100, 100)).unwrap();
    exit_group.timestamp_ns = 1_500_000_000;
    out.clear();
    printer.feed(&[exit_group], &mut out);
    assert_eq!(
        out,
        "100   1.500000 exit_group(3)            = ?\n\
         100   1.500000 +++ exited with 3 +++\n"
    );
}

/// A synthetic event of thread `tid` of process `pid` at `ts`.
fn ev(kind: EventKind, pid: u32, tid: u32, nr: u32, ts: u64) -> Event {
    Event {
        kind,
        timestamp_ns: ts,
        pid,
        root: pid,
        tid,
        nr,
        cpu: 0,
        phase: Phase::Enter,
        nb_args: 0,
        args: [0; 6],
        ret: 0,
        comm: [0; 16],
        data: None,
    }
}

fn call_ev(pid: u32, tid: u32, nr: u32, args: &[u64], ret: Option<i64>, ts: u64) -> Event {
    let mut e = ev(EventKind::Syscall, pid, tid, nr, ts);
    match ret {
        None => {
            e.nb_args = args.len() as u8;
            e.args[..args.len()].copy_from_slice(args);
        }
        Some(r) => {
            e.phase = Phase::Exit;
            e.ret = r;
        }
    }
    e
}

fn task_exit(pid: u32, tid: u32, code: i32, group_dead: bool, ts: u64) -> Event {
    let mut e = ev(EventKind::TaskExit, pid, tid, 0, ts);
    e.nb_args = 3;
    e.args[0] = code as u32 as u64;
    e.args[1] = u64::from(group_dead);
    e.ret = i64::from(code);
    e
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_process_in_32_bit_mode_is_said_untraced() {
    const EXECVE: u32 = 59;
    let mut end = task_exit(7, 7, 0, true, 3);
    end.args[2] = 1; // compat
    let events = [call_ev(7, 7, EXECVE, &[0, 0, 0], None, 1), end];
    let options = || PrinterOptions {
        task_exits: true,
        ..Default::default()
    };
    let out = run(options(), &events);
    assert!(
        out.ends_with(
            "execve(NULL, NULL, NULL)                = 0\n\
             [ Process PID=7 runs in 32 bit mode: its syscalls are not traced ]\n\
             +++ exited with 0 +++\n"
        ),
        "{out}"
    );
    let json = run(
        PrinterOptions {
            format: OutputFormat::Json,
            ..options()
        },
        &events,
    );
    assert!(
        json.contains(r#"{"event":"personality","pid":7,"mode":"32 bit","traced":false}"#),
        "{json}"
    );
    // A 64-bit end says nothing of it.
    let out = run(options(), &[events[0].clone(), task_exit(7, 7, 0, true, 3)]);
    assert!(!out.contains("32 bit"), "{out}");
}

fn signal(pid: u32, tid: u32, sig: u32, code: i32, fields: [u64; 4], ts: u64) -> Event {
    let mut e = ev(EventKind::Signal, pid, tid, sig, ts);
    e.nb_args = 6;
    e.args = [
        code as i64 as u64,
        0,
        fields[0],
        fields[1],
        fields[2],
        fields[3],
    ];
    e
}

fn run(opts: PrinterOptions, events: &[Event]) -> String {
    let mut printer = Printer::new(opts);
    let mut out = String::new();
    printer.feed(events, &mut out);
    printer.finish(&mut out);
    out
}

#[cfg(target_arch = "x86_64")]
#[test]
fn interleaved_calls_are_cut_and_resumed_in_time_order() {
    const CLOSE: u32 = 3;
    const GETPID: u32 = 39;
    let events = [
        call_ev(1, 1, GETPID, &[], None, 1),
        call_ev(1, 1, GETPID, &[], Some(1), 2),
        call_ev(1, 2, CLOSE, &[7], None, 3),
        // Out of order in the batch: sorted by time.
        call_ev(1, 2, CLOSE, &[7], Some(0), 6),
        call_ev(1, 1, GETPID, &[], None, 4),
        call_ev(1, 1, GETPID, &[], Some(1), 5),
        task_exit(1, 2, 0, false, 7),
        task_exit(1, 1, 0, true, 8),
    ];
    let out = run(
        PrinterOptions {
            task_exits: true,
            thread_exits: true,
            ..Default::default()
        },
        &events,
    );
    assert_eq!(
        out,
        "getpid()                                = 1\n\
         [pid     2] close(7 <unfinished ...>\n\
         [pid     1] getpid()                    = 1\n\
         [pid     2] <... close resumed>)        = 0\n\
         [pid     2] +++ exited with 0 +++\n\
         +++ exited with 0 +++\n"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_thread_that_dies_in_a_call_and_a_kill() {
    const READ: u32 = 0;
    const EXIT_GROUP: u32 = 231;
    let events = [
        call_ev(1, 2, READ, &[3, 0x1000, 1], None, 1),
        call_ev(1, 1, EXIT_GROUP, &[3], None, 2),
        // The read returns -ERESTARTSYS to a thread that is being killed:
        // it never returns to the process.
        call_ev(1, 2, READ, &[], Some(-512), 3),
        signal(1, 2, 9, 0, [0; 4], 4),
        task_exit(1, 2, 3 << 8, false, 5),
        task_exit(1, 1, 3 << 8, true, 6),
    ];
    let mut sigkill_no_info = events.clone();
    sigkill_no_info[3].args[1] = 1 << 32; // SYSTRACE_SIGNAL_NO_INFO
    let out = run(
        PrinterOptions {
            task_exits: true,
            thread_exits: true,
            ..Default::default()
        },
        &sigkill_no_info,
    );
    assert_eq!(
        out,
        "[pid     2] read(3,  <unfinished ...>\n\
         [pid     1] exit_group(3)               = ?\n\
         [pid     2] <... read resumed> <unfinished ...>) = ?\n\
         [pid     2] +++ exited with 3 +++\n\
         +++ exited with 3 +++\n"
    );
    // Killed by a signal, told with -ttt at the time of the last thread's exit.
    let out = run(
        PrinterOptions {
            task_exits: true,
            timestamps: 3,
            quiet_exits: true,
            ..Default::default()
        },
        &[task_exit(5, 5, 0x80 | 11, true, 2_000_000)],
    );
    assert_eq!(out, "0.002000 +++ killed by SIGSEGV (core dumped) +++\n");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn signals_restarts_and_signal_sets() {
    const NANOSLEEP: u32 = 35;
    const RESTART: u32 = 219;
    let events = [
        call_ev(1, 1, NANOSLEEP, &[0x10, 0x20], None, 1),
        call_ev(1, 1, NANOSLEEP, &[], Some(-516), 2),
        signal(1, 1, 19, 0, [7, 0, 0, 0], 3),
        call_ev(1, 1, RESTART, &[], None, 4),
        call_ev(1, 1, RESTART, &[], Some(0), 5),
        signal(1, 1, 17, 1, [8, 0, 0, 0], 6),
    ];
    let out = run(PrinterOptions::default(), &events);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with("= ? ERESTART_RESTARTBLOCK (Interrupted by signal)"));
    assert_eq!(
        lines[1..],
        [
            "--- SIGSTOP {si_signo=SIGSTOP, si_code=SI_USER, si_pid=7, si_uid=0} ---",
            "--- stopped by SIGSTOP ---",
            "restart_syscall(<... resuming interrupted nanosleep ...>) = 0",
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8, si_uid=0, \
             si_status=0, si_utime=0, si_stime=0} ---",
        ]
    );
    let only_chld = PrinterOptions {
        signals: SignalSet::parse("!SIGSTOP").unwrap(),
        ..Default::default()
    };
    let out = run(only_chld, &events);
    assert!(!out.contains("SIGSTOP") && out.contains("--- SIGCHLD"));
    // JSON: every line an object.
    let out = run(
        PrinterOptions {
            format: OutputFormat::Json,
            ..Default::default()
        },
        &events,
    );
    for line in out.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value.is_object());
    }
    assert!(out.contains(r#""event":"signal""#));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_fatal_signal_recorded_at_its_sending_follows_the_call_it_cut() {
    const NANOSLEEP: u32 = 35;
    let mut term = signal(1, 1, 15, 0, [9, 0, 0, 0], 2);
    term.args[1] = 2 << 32; // SYSTRACE_SIGNAL_AT_SEND
    let mut kill = signal(1, 1, 9, 0, [0; 4], 4);
    kill.args[1] = 1 << 32; // SYSTRACE_SIGNAL_NO_INFO
    let events = [
        call_ev(1, 1, NANOSLEEP, &[0x10, 0x20], None, 1),
        term,
        call_ev(1, 1, NANOSLEEP, &[], Some(-516), 3),
        kill,
        task_exit(1, 1, 15, true, 5),
    ];
    let out = run(
        PrinterOptions {
            task_exits: true,
            ..Default::default()
        },
        &events,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].ends_with("= ? ERESTART_RESTARTBLOCK (Interrupted by signal)"));
    assert_eq!(
        lines[1..],
        [
            "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=9, si_uid=0} ---",
            "+++ killed by SIGTERM +++",
        ]
    );
}

/// The read loop's calls, as the command prints them, many to a batch:
/// every line exact. Also the printer's cost per event, printed with
/// `cargo test --release --lib read_loop_lines -- --nocapture` (run it under
/// perf to see where the command's text path goes).
#[cfg(target_arch = "x86_64")]
#[test]
fn read_loop_lines_are_exact_and_timed() {
    use crate::kernel::decode::encode_captures;
    let enter = decode(&enter_record(0, &[3, 0x7ffc_0000, 1], 100, 100)).unwrap();
    let mut exit = exit_record(0, 1, 100, 100);
    exit.extend(encode_captures(&[(1, 8, vec![0])]));
    let exit = decode(&exit).unwrap();
    let events: Vec<Event> = (0..1024)
        .flat_map(|i| {
            let (mut a, mut b) = (enter.clone(), exit.clone());
            a.timestamp_ns = 2 * i;
            b.timestamp_ns = 2 * i + 1;
            [a, b]
        })
        .collect();
    let line = "read(3, \"\\0\", 1)                        = 1\n";
    let mut printer = Printer::new(PrinterOptions::default());
    let mut out = String::new();
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        out.clear();
        printer.feed(&events, &mut out);
        assert_eq!(out.len(), line.len() * 1024);
    }
    let ns = start.elapsed().as_nanos() / (rounds * events.len() as u128);
    assert_eq!(out, line.repeat(1024));
    eprintln!("{ns} ns per event");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn calls_cut_by_a_sigkill_never_return() {
    const FUTEX: u32 = 202;
    const KILL: u32 = 62;
    const EPOLL_WAIT: u32 = 232;
    const EINTR: i64 = -4;
    let sigkill = |pid, tid, ts| {
        let mut e = signal(pid, tid, 9, 0, [0; 4], ts);
        e.args[1] = 1 << 32; // SYSTRACE_SIGNAL_NO_INFO
        e
    };
    let options = || PrinterOptions {
        task_exits: true,
        thread_exits: true,
        ..Default::default()
    };
    // Thread 2 waits (a futex, complete at its entry) while thread 1 kills
    // their process: its kill returned 0, and neither call returns to it.
    let events = [
        call_ev(1, 2, FUTEX, &[0x1000, 0x80, 0, 0, 0, 0], None, 1),
        call_ev(1, 1, KILL, &[1, 9], None, 2),
        call_ev(1, 1, KILL, &[], Some(0), 3),
        call_ev(1, 2, FUTEX, &[], Some(0), 4),
        sigkill(1, 1, 5),
        sigkill(1, 2, 6),
        task_exit(1, 1, 9, false, 7),
        task_exit(1, 2, 9, true, 8),
    ];
    let out = run(options(), &events);
    assert!(
        out.contains("[pid     1] kill(1, SIGKILL)            = ?\n"),
        "{out}"
    );
    assert!(
        out.contains("[pid     2] <... futex resumed>)        = ?\n"),
        "{out}"
    );
    // A kill of another process returns as usual.
    let other = [
        call_ev(1, 1, KILL, &[5, 9], None, 1),
        call_ev(1, 1, KILL, &[], Some(0), 2),
    ];
    assert_eq!(
        run(options(), &other),
        "kill(5, SIGKILL)                        = 0\n"
    );
    // One that failed sent nothing: its (traced) target's calls print at
    // once.
    const GETPID: u32 = 39;
    let failed = [
        call_ev(5, 5, GETPID, &[], None, 1),
        call_ev(5, 5, GETPID, &[], Some(5), 2),
        call_ev(1, 1, KILL, &[5, 9], None, 3),
        call_ev(1, 1, KILL, &[], Some(-1), 4),
        call_ev(5, 5, GETPID, &[], None, 5),
        call_ev(5, 5, GETPID, &[], Some(5), 6),
    ];
    let mut printer = Printer::new(options());
    let mut out = String::new();
    printer.feed(&failed, &mut out);
    assert!(out.ends_with("getpid()                    = 5\n"), "{out}");
    // epoll_wait's -EINTR to a thread being killed: unfinished, its events
    // never written.
    let events = [
        call_ev(1, 1, EPOLL_WAIT, &[3, 0x1000, 8, 5000], None, 1),
        call_ev(1, 1, EPOLL_WAIT, &[], Some(EINTR), 2),
        sigkill(1, 1, 3),
        task_exit(1, 1, 9, true, 4),
    ];
    let out = run(options(), &events);
    assert!(
        out.starts_with("epoll_wait(3,  <unfinished ...>)        = ?\n"),
        "{out}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn decode_pids_names_ids_as_at_the_calls_entry() {
    const KILL: u32 = 62;
    const PRCTL: u32 = 157;
    const GETPID: u32 = 39;
    let named = |mut e: Event, comm: &[u8]| {
        e.comm = [0; 16];
        e.comm[..comm.len()].copy_from_slice(comm);
        e
    };
    // 100 kills its thread 101, which renames itself meanwhile: the kill's
    // argument is named as at its entry, the prctl's prefix too.
    let events = [
        named(call_ev(100, 100, GETPID, &[], None, 1), b"sh"),
        named(call_ev(100, 100, GETPID, &[], Some(100), 2), b"sh"),
        named(call_ev(100, 101, GETPID, &[], None, 3), b"sh"),
        named(call_ev(100, 101, GETPID, &[], Some(100), 4), b"sh"),
        named(call_ev(100, 100, KILL, &[101, 0], None, 5), b"sh"),
        named(call_ev(100, 101, PRCTL, &[15, 0x1000], None, 6), b"sh"),
        named(call_ev(100, 101, PRCTL, &[], Some(0), 7), b"w>1"),
        named(call_ev(100, 100, KILL, &[], Some(0), 8), b"sh"),
        named(call_ev(100, 101, GETPID, &[], None, 9), b"w>1"),
        named(call_ev(100, 101, GETPID, &[], Some(100), 10), b"w>1"),
    ];
    let opts = || PrinterOptions {
        decode_pids: true,
        live: false,
        ..PrinterOptions::default()
    };
    assert_eq!(
        run(opts(), &events),
        "getpid()                                = 100<sh>\n\
         [pid   101<sh>] getpid()                = 100<sh>\n\
         [pid   100<sh>] kill(101<sh>, 0 <unfinished ...>\n\
         [pid   101<sh>] prctl(PR_SET_NAME, 0x1000) = 0\n\
         [pid   100<sh>] <... kill resumed>)     = 0\n\
         [pid   101<w\\0761>] getpid()            = 100<sh>\n"
    );
    // In a file: `PID<comm> `, unpadded, as strace's.
    let always = PrinterOptions {
        prefix: PidPrefix::Always,
        ..opts()
    };
    let text = run(always, &events[..4]);
    assert_eq!(
        text,
        "100<sh> getpid()                        = 100<sh>\n\
         101<sh> getpid()                        = 100<sh>\n"
    );
    // Without -Y, no names.
    assert!(!run(PrinterOptions::default(), &events).contains("<sh>"));
    // JSON: the names in its strace text, no fd fields without -y.
    let json = PrinterOptions {
        format: OutputFormat::Json,
        ..opts()
    };
    let text = run(json, &events[..2]);
    assert!(text.contains(r#" = 100<sh>"}"#), "{text}");
    assert!(!text.contains("fd_paths"), "{text}");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn fd_paths_follow_unlink_and_rename_and_are_escaped() {
    use crate::kernel::decode::encode_captures;
    const WRITE: i32 = 1;
    const RENAME: i32 = 82;
    const UNLINK: i32 = 87;
    const OPENAT: i32 = 257;
    let with = |record: Vec<u8>, items: &[(u8, &[u8])]| {
        let mut record = record;
        let items: Vec<(u8, u8, Vec<u8>)> =
            items.iter().map(|(a, b)| (*a, 0, b.to_vec())).collect();
        record.extend(encode_captures(&items));
        decode(&record).unwrap()
    };
    let call = |nr: i32, args: &[u64], items: &[(u8, &[u8])], ret: i64, ts: u64| {
        let mut enter = with(enter_record(nr, args, 100, 100), items);
        let mut exit = decode(&exit_record(nr, ret, 100, 100)).unwrap();
        enter.timestamp_ns = ts;
        exit.timestamp_ns = ts + 1;
        [enter, exit]
    };
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    let events: Vec<Event> = [
        call(
            OPENAT,
            &[at_fdcwd, 0x1000, 0o102, 0o600],
            &[(1, b"/nowhere/d\xc3\xa9<1>\0")],
            3,
            10,
        ),
        call(
            OPENAT,
            &[at_fdcwd, 0x1000, 0o102, 0o600],
            &[(1, b"/nowhere/a\0")],
            4,
            20,
        ),
        call(UNLINK, &[0x1000], &[(0, b"/nowhere/d\xc3\xa9<1>\0")], 0, 30),
        call(
            RENAME,
            &[0x1000, 0x2000],
            &[(0, b"/nowhere/a\0"), (1, b"/nowhere/b\0")],
            0,
            40,
        ),
        call(WRITE, &[3, 0x3000, 1], &[(1, b"y")], 1, 50),
        call(WRITE, &[4, 0x3000, 1], &[(1, b"y")], 1, 60),
    ]
    .concat();
    let opts = PrinterOptions {
        decode_fds: 1,
        live: false,
        ..PrinterOptions::default()
    };
    let text = run(opts, &events);
    let lines: Vec<&str> = text.lines().collect();
    // strace -y: the path escaped as a string, `<` and `>` too; an
    // unlinked file's `(deleted)` after the `>` (its /proc link's
    // ` (deleted)`); a renamed one's new name.
    assert!(
        lines[0].ends_with(r"= 3</nowhere/d\303\251\0741\76>"),
        "{text}"
    );
    assert!(
        lines[4].starts_with(r#"write(3</nowhere/d\303\251\0741\76>(deleted), "y", 1)"#),
        "{text}"
    );
    assert!(
        lines[5].starts_with(r#"write(4</nowhere/b>, "y", 1)"#),
        "{text}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_vfork_child_that_runs_first_has_its_parents_fds() {
    // A vfork's child runs, and may be reaped, before its parent's vfork
    // returns its pid: its table is its parent's, the one process in a
    // fork when it starts (not /proc's, read when it is gone). With two
    // processes in a fork, which is its parent is not known: no guess.
    use crate::kernel::decode::encode_captures;
    const WRITE: u32 = 1;
    const OPENAT: u32 = 257;
    const VFORK: u32 = 58;
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    let mut open = call_ev(100, 100, OPENAT, &[at_fdcwd, 0x1000, 0, 0], None, 10);
    open.data = Some(encode_captures(&[(1, 0, b"/nowhere/f\0".to_vec())]).into());
    let child = |pid: u32, nr: u32, args: &[u64], ret: Option<i64>, ts: u64| {
        let mut e = call_ev(pid, pid, nr, args, ret, ts);
        e.root = 100;
        e
    };
    let events = |other_fork: bool| {
        let mut events = vec![
            open.clone(),
            call_ev(100, 100, OPENAT, &[], Some(3), 11),
            call_ev(100, 100, VFORK, &[], None, 20),
            child(101, VFORK, &[], Some(0), 30),
            child(101, WRITE, &[3, 0x3000, 0], None, 40),
            child(101, WRITE, &[], Some(0), 41),
            call_ev(100, 100, VFORK, &[], Some(101), 50),
        ];
        if other_fork {
            events.push(child(102, VFORK, &[], None, 25));
        }
        events
    };
    let opts = PrinterOptions {
        decode_fds: 1,
        live: false,
        ..PrinterOptions::default()
    };
    let text = run(opts.clone(), &events(false));
    assert!(text.contains("[pid   101] write(3</nowhere/f>, "), "{text}");
    let text = run(opts, &events(true));
    assert!(text.contains("[pid   101] write(3, "), "{text}");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_reopened_own_fd_is_the_file_the_table_knows() {
    // /dev/stdin -> /proc/self/fd/0: the process's fd 0 opened again, the
    // file its table has (here /nowhere/f, which /proc cannot name: the
    // process is made up, as one gone before its line prints).
    use crate::kernel::decode::encode_captures;
    const OPENAT: u32 = 257;
    const DUP2: u32 = 33;
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    let open = |path: &[u8], ts: u64| {
        let mut e = call_ev(100, 100, OPENAT, &[at_fdcwd, 0x1000, 0, 0], None, ts);
        e.data = Some(encode_captures(&[(1, 0, path.to_vec())]).into());
        e
    };
    let events = vec![
        open(b"/nowhere/f\0", 10),
        call_ev(100, 100, OPENAT, &[], Some(3), 11),
        call_ev(100, 100, DUP2, &[3, 0], None, 12),
        call_ev(100, 100, DUP2, &[], Some(0), 13),
        open(b"/dev/stdin\0", 20),
        call_ev(100, 100, OPENAT, &[], Some(4), 21),
        open(b"/proc/self/fd/0\0", 30),
        call_ev(100, 100, OPENAT, &[], Some(5), 31),
    ];
    let opts = PrinterOptions {
        decode_fds: 1,
        live: false,
        ..PrinterOptions::default()
    };
    let text = run(opts, &events);
    assert!(
        text.contains("\"/dev/stdin\", O_RDONLY) = 4</nowhere/f>"),
        "{text}"
    );
    assert!(
        text.contains("\"/proc/self/fd/0\", O_RDONLY) = 5</nowhere/f>"),
        "{text}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_call_blocked_at_attach_prints_whole_from_its_proc_arguments() {
    const CLOSE: u32 = 3;
    // /proc/TID/syscall of a thread in close(7), then of one running.
    let enter = blocked_enter("3 0x7 0x0 0x0 0x0 0x0 0x0 0x7ffd0000 0x7f000000\n", 5, 6).unwrap();
    assert_eq!(
        (enter.nr, enter.pid, enter.tid, enter.nb_args),
        (CLOSE, 5, 6, 1)
    );
    assert_eq!(enter.args[0], 7);
    assert!(blocked_enter("running\n", 5, 6).is_none());
    assert!(blocked_enter("-1 0x7ffd0000 0x7f000000\n", 5, 6).is_none());

    let mut printer = Printer::new(PrinterOptions::default());
    printer
        .in_call_at_attach
        .insert(6, AttachedCall::RunAgain(enter.clone()));
    let mut out = String::new();
    printer.feed(&[call_ev(5, 6, CLOSE, &[], Some(0), u64::MAX)], &mut out);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["close(7)", "=", "0"]
    );
    // Its first event another call's: that one's exit shows as resumed.
    let mut printer = Printer::new(PrinterOptions::default());
    printer
        .in_call_at_attach
        .insert(6, AttachedCall::RunAgain(enter));
    let mut out = String::new();
    printer.feed(&[call_ev(5, 6, 39, &[], Some(5), u64::MAX)], &mut out);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["<...", "getpid", "resumed>)", "=", "5"]
    );
}

/// Feeds `events` in time order one at a time, the consumer's round
/// ending twice after each (so every call still open is begun, see
/// `Printer::idle`).
fn run_in_rounds(opts: PrinterOptions, events: &[Event]) -> String {
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.timestamp_ns);
    let mut printer = Printer::new(opts);
    let mut out = String::new();
    let mut begun = 0;
    for ev in &events {
        printer.feed([ev], &mut out);
        printer.idle(&mut out);
        printer.idle(&mut out);
        begun += usize::from(!out.is_empty() && !out.ends_with('\n'));
    }
    assert!(begun > 0, "no line was begun: {out}");
    printer.finish(&mut out);
    out
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_blocked_calls_first_part_is_written_while_it_waits() {
    use crate::kernel::decode::encode_captures;
    const READ: u32 = 0;
    const WRITE: u32 = 1;
    // A process no /proc has (past the largest pid): no thread unseen.
    const PID: u32 = 1 << 30;
    let mut printer = Printer::new(PrinterOptions::default());
    let mut out = String::new();
    printer.feed(
        &[call_ev(PID, PID, READ, &[3, 0x1000, 1], None, 1)],
        &mut out,
    );
    printer.idle(&mut out);
    assert_eq!(out, "", "after one round the call may be on its way out");
    printer.idle(&mut out);
    assert_eq!(out, "read(3, ");
    printer.idle(&mut out);
    assert_eq!(out, "read(3, ", "written once");
    printer.feed(&[call_ev(PID, PID, READ, &[], Some(-11), 2)], &mut out);
    assert_eq!(
        out,
        "read(3, 0x1000, 1)                      = -1 EAGAIN (Resource temporarily unavailable)\n"
    );

    // A thread of a process with another thread not seen yet (ours: the
    // test's and the harness's) waits: that one's line would give this
    // one a pid prefix.
    let me = std::process::id();
    let mut printer = Printer::new(PrinterOptions::default());
    out.clear();
    printer.feed(&[call_ev(me, me, READ, &[3, 0x1000, 1], None, 1)], &mut out);
    for _ in 0..6 {
        printer.idle(&mut out);
    }
    assert_eq!(out, "", "the other thread looked for once, and found");

    // A write whose data faulted at its enter waits for its exit, which
    // reads it again: its line is printed whole then.
    let mut enter = enter_record(WRITE as i32, &[1, 0x2000, 2], 100, 100);
    enter.extend(encode_captures(&[(1, 2, Vec::new())]));
    let enter = decode(&enter).unwrap();
    let mut printer = Printer::new(PrinterOptions::default());
    out.clear();
    printer.feed(&[enter], &mut out);
    printer.idle(&mut out);
    printer.idle(&mut out);
    assert_eq!(out, "");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_begun_line_ends_as_it_would_have_printed_whole() {
    const READ: u32 = 0;
    const CLOSE: u32 = 3;
    const GETPID: u32 = 39;
    const EXIT_GROUP: u32 = 231;
    // Two threads that cut each other's calls; a read a thread dies in,
    // cut by its process's exit_group; one still in a call at the end.
    let cut = [
        call_ev(1, 1, GETPID, &[], None, 1_000),
        call_ev(1, 1, GETPID, &[], Some(1), 2_000),
        call_ev(1, 2, CLOSE, &[7], None, 3_000),
        call_ev(1, 1, GETPID, &[], None, 4_000),
        call_ev(1, 1, GETPID, &[], Some(1), 5_000),
        call_ev(1, 2, CLOSE, &[7], Some(0), 6_000),
        call_ev(1, 2, READ, &[3, 0x1000, 1], None, 7_000),
        call_ev(1, 2, READ, &[], Some(1), 8_000),
        task_exit(1, 2, 0, false, 9_000),
        task_exit(1, 1, 0, true, 10_000),
    ];
    let killed = [
        call_ev(1, 1, GETPID, &[], None, 500),
        call_ev(1, 1, GETPID, &[], Some(1), 600),
        call_ev(1, 2, READ, &[3, 0x1000, 1], None, 1_000),
        call_ev(1, 1, EXIT_GROUP, &[3], None, 2_000),
        call_ev(1, 2, READ, &[], Some(-512), 3_000),
        task_exit(1, 2, 3 << 8, false, 5_000),
        task_exit(1, 1, 3 << 8, true, 6_000),
    ];
    let unended = [call_ev(
        1 << 30,
        1 << 30,
        READ,
        &[0, 0x1000, 9],
        None,
        1_000,
    )];
    let options = [
        PrinterOptions::default(),
        // -r: the rest of a begun line keeps the time since the line before.
        PrinterOptions {
            relative_timestamps: true,
            ..Default::default()
        },
        PrinterOptions {
            timestamps: 3,
            durations: true,
            prefix: PidPrefix::Always,
            ..Default::default()
        },
    ];
    for events in [&cut[..], &killed, &unended] {
        for opts in &options {
            let opts = || PrinterOptions {
                task_exits: true,
                thread_exits: true,
                ..opts.clone()
            };
            let whole = run(opts(), events);
            assert!(whole.contains('('), "{whole}");
            assert_eq!(run_in_rounds(opts(), events), whole);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn calls_blocked_at_attach_are_begun_once_the_events_before_it_are_in() {
    const READ: u32 = 0;
    const CLOSE: u32 = 3;
    let close = blocked_enter("3 0x7 0x0 0x0 0x0 0x0 0x0 0x7ffd0000 0x7f000000\n", 5, 6).unwrap();
    let read = blocked_enter("0 0x0 0x1000 0x9 0x0 0x0 0x0 0x7ffd0000 0x7f000000\n", 5, 7).unwrap();
    let mut printer = Printer::new(PrinterOptions::default());
    for (tid, enter) in [(6, close), (7, read)] {
        printer.live.entry(tid).or_insert(5);
        printer
            .in_call_at_attach
            .insert(tid, AttachedCall::RunAgain(enter));
    }
    let mut out = String::new();
    // A round that may have begun before the attach: its events may be
    // still to come.
    printer.idle(&mut out);
    assert_eq!(out, "");
    // The next: the calls /proc showed are the ones the threads are in.
    printer.idle(&mut out);
    assert_eq!(out, "[pid     6] close(7 <unfinished ...>\n");
    printer.idle(&mut out);
    assert_eq!(
        out,
        "[pid     6] close(7 <unfinished ...>\n[pid     7] read(0, "
    );
    out.clear();
    printer.feed(
        &[
            call_ev(5, 7, READ, &[], Some(0), u64::MAX - 1),
            call_ev(5, 6, CLOSE, &[], Some(0), u64::MAX),
        ],
        &mut out,
    );
    assert_eq!(
        out,
        "\"\", 9)              = 0\n[pid     6] <... close resumed>)        = 0\n"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn without_f_only_the_traced_threads_print() {
    const CLOSE: u32 = 3;
    const EXIT: u32 = 60;
    const EXECVE: u32 = 59;
    let options = PrinterOptions {
        threads: Some(HashSet::from([7])),
        task_exits: true,
        decode_fds: decode_fd::PATH,
        live: false,
        ..Default::default()
    };
    let events = [
        call_ev(7, 7, CLOSE, &[3], None, 1),
        call_ev(7, 7, CLOSE, &[3], Some(-9), 2),
        // Another thread: its calls, its signal and its end print nothing,
        // not the exit it died in either (-y follows its calls apart).
        call_ev(7, 8, CLOSE, &[4], None, 3),
        call_ev(7, 8, CLOSE, &[4], Some(0), 4),
        signal(7, 8, 10, 0, [0; 4], 5),
        call_ev(7, 8, EXIT, &[0], None, 6),
        task_exit(7, 8, 0, false, 7),
        call_ev(7, 7, CLOSE, &[5], None, 8),
        call_ev(7, 7, CLOSE, &[5], Some(-9), 9),
    ];
    let out = run(options.clone(), &events);
    assert_eq!(
        out,
        "close(3)                                = -1 EBADF (Bad file descriptor)\n\
         close(5)                                = -1 EBADF (Bad file descriptor)\n",
    );
    // Another thread's exec takes the first thread's id: that thread's
    // call ends there, and the new program shows nothing but its end.
    let events = [
        call_ev(7, 7, CLOSE, &[3], None, 1),
        call_ev(7, 8, EXECVE, &[0, 0, 0], None, 2),
        call_ev(7, 7, EXECVE, &[], Some(0), 3),
        call_ev(7, 7, CLOSE, &[4], None, 4),
        call_ev(7, 7, CLOSE, &[4], Some(0), 5),
        task_exit(7, 7, 0, true, 6),
    ];
    assert_eq!(
        run(options, &events),
        "close(3)                                = ?\n\
         +++ exited with 0 +++\n",
    );
}
