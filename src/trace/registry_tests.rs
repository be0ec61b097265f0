//! The registry's bookkeeping against a kernel that records what it is told.
use super::*;

/// A kernel that records state, to check the bookkeeping alone.
#[derive(Default)]
struct FakeKernel {
    bits: [BTreeSet<u32>; 2],
    attached: [bool; 2],
    tgids: BTreeMap<u32, u32>,
    all: u32,
    fail_attach: Option<Phase>,
    capture: BTreeSet<u32>,
    capture_size: u32,
    data_size: u32,
    follow: u32,
    only: Option<u32>,
    counted: BTreeSet<u32>,
    /// Sessions that count first threads only, and its value at each
    /// count bit turned on.
    first_thread_counts: u32,
    first_thread_at_count: Vec<u32>,
    /// (tgid, first_thread_counts then) of each first thread marked.
    first_threads: Vec<(u32, u32)>,
    /// The overhead taken off counted calls, and its value at each count
    /// bit turned on.
    count_overhead: u64,
    detaching: u32,
    overhead_at_count: Vec<u64>,
    signals: u32,
    task_exits: u32,
    /// Sessions that want the time, and its value at each bit turned on.
    clocks: u32,
    clocks_at_enable: Vec<u32>,
    /// Per number: the length of the programs' filter.
    filters: BTreeMap<u32, u32>,
    count_filters: BTreeMap<u32, u32>,
    /// The numbers some session filters, and whether each was so when
    /// the programs' filter last changed.
    session_filtered: BTreeSet<u32>,
    filtered_at_change: Vec<(u32, bool)>,
    /// The bits each sync_hooks saw, and whether it fails.
    synced: Vec<[BTreeSet<u32>; 2]>,
    fail_sync: bool,
}

impl Kernel for FakeKernel {
    fn set_enabled(&mut self, phase: Phase, nr: u32, on: bool) {
        let bits = &mut self.bits[phase.index()];
        if on {
            assert!(bits.insert(nr), "bit {nr} set twice");
            self.clocks_at_enable.push(self.clocks);
        } else {
            assert!(bits.remove(&nr), "bit {nr} cleared twice");
        }
    }
    fn attach(&mut self, phase: Phase) -> Result<()> {
        if self.fail_attach == Some(phase) {
            return Err(Error::PermissionDenied("no".into()));
        }
        assert!(!self.attached[phase.index()], "attached twice");
        self.attached[phase.index()] = true;
        Ok(())
    }
    fn detach(&mut self, phase: Phase) {
        assert!(self.attached[phase.index()], "detached while detached");
        self.attached[phase.index()] = false;
    }
    fn set_traced_tgid(&mut self, tgid: u32, flags: Option<u32>) -> Result<()> {
        match flags {
            Some(f) => self.tgids.insert(tgid, f),
            None => self.tgids.remove(&tgid),
        };
        Ok(())
    }
    fn set_trace_all_processes(&mut self, count: u32) {
        self.all = count;
    }
    fn set_clock_sessions(&mut self, count: u32) {
        self.clocks = count;
    }
    fn set_capture(&mut self, nr: u32, on: bool) {
        if on {
            assert!(self.capture.insert(nr));
        } else {
            assert!(self.capture.remove(&nr));
        }
    }
    fn set_capture_size(&mut self, size: u32, data_size: u32) {
        self.capture_size = size;
        self.data_size = data_size;
    }
    fn set_follow_forks(&mut self, count: u32) -> Result<()> {
        self.follow = count;
        Ok(())
    }
    fn set_counted(&mut self, nr: u32, on: bool) {
        if on {
            self.first_thread_at_count.push(self.first_thread_counts);
            self.overhead_at_count.push(self.count_overhead);
            assert!(self.counted.insert(nr), "count bit {nr} set twice");
        } else {
            assert!(self.counted.remove(&nr), "count bit {nr} cleared twice");
        }
    }
    fn set_only_tgid(&mut self, tgid: Option<u32>) {
        self.only = tgid;
    }
    fn set_count_first_thread(&mut self, count: u32) {
        self.first_thread_counts = count;
    }
    fn set_count_overhead(&mut self, ns: u64) {
        self.count_overhead = ns;
    }
    fn set_detach_on_execve(&mut self, count: u32) {
        self.detaching = count;
    }
    fn mark_first_thread(&mut self, tgid: u32) -> Result<()> {
        self.first_threads.push((tgid, self.first_thread_counts));
        Ok(())
    }
    fn set_signals(&mut self, count: u32) -> Result<()> {
        self.signals = count;
        Ok(())
    }
    fn set_task_exits(&mut self, count: u32) -> Result<()> {
        self.task_exits = count;
        Ok(())
    }
    fn set_session_filtered(&mut self, nr: u32, on: bool) {
        if on {
            self.session_filtered.insert(nr);
        } else {
            self.session_filtered.remove(&nr);
        }
    }
    fn set_filter(&mut self, nr: u32, filter: Option<&crate::kernel::types::systrace_filter>) {
        self.filtered_at_change
            .push((nr, self.session_filtered.contains(&nr)));
        match filter {
            Some(f) => self.filters.insert(nr, f.len),
            None => self.filters.remove(&nr),
        };
    }
    fn set_count_filter(
        &mut self,
        nr: u32,
        filter: Option<&crate::kernel::types::systrace_filter>,
    ) -> bool {
        match filter {
            Some(f) => self.count_filters.insert(nr, f.len),
            None => self.count_filters.remove(&nr),
        };
        true
    }
    fn sync_hooks(&mut self, _settle: bool) -> Result<()> {
        self.synced.push(self.bits.clone());
        if self.fail_sync {
            return Err(Error::PermissionDenied("no".into()));
        }
        Ok(())
    }
}

#[test]
fn task_events_are_refcounted() {
    let mut k = FakeKernel::default();
    let mut r = Registry::default();
    let signals = Registration {
        signals: true,
        task_exits: true,
        ..reg(&[], &[], &[7])
    };
    let exits = Registration {
        task_exits: true,
        ..reg(&[0], &[0], &[8])
    };
    r.register(&mut k, &signals).unwrap();
    r.register(&mut k, &exits).unwrap();
    assert_eq!((k.signals, k.task_exits), (1, 2));
    r.unregister(&mut k, &signals);
    assert_eq!((k.signals, k.task_exits), (0, 1));
    r.unregister(&mut k, &exits);
    assert_eq!((k.signals, k.task_exits), (0, 0));
}

fn reg(enter: &[u32], exit: &[u32], tgids: &[u32]) -> Registration {
    Registration {
        enter: enter.iter().copied().collect(),
        exit: exit.iter().copied().collect(),
        processes: ProcessFilter::Tgids(tgids.iter().copied().collect()),
        ..Default::default()
    }
}

#[test]
fn the_clock_is_read_while_a_session_wants_the_time() {
    let mut k = FakeKernel::default();
    let mut r = Registry::default();
    let timed = reg(&[0], &[0], &[1]);
    let untimed = Registration {
        clockless: true,
        ..reg(&[1], &[1], &[1])
    };
    let counting = Registration {
        count: BTreeSet::from([2]),
        ..reg(&[], &[], &[1])
    };
    r.register(&mut k, &untimed).unwrap();
    r.register(&mut k, &counting).unwrap();
    assert_eq!(k.clocks, 0, "neither delivers timed events");
    r.register(&mut k, &timed).unwrap();
    assert_eq!(k.clocks, 1);
    // On before the timed session's bits: its first records are timed.
    assert_eq!(k.clocks_at_enable.last(), Some(&1));
    r.register(&mut k, &timed).unwrap();
    assert_eq!(k.clocks, 2);
    r.unregister(&mut k, &timed);
    assert_eq!(k.clocks, 1, "the other timed session keeps it on");
    r.unregister(&mut k, &timed);
    assert_eq!(k.clocks, 0);
    r.unregister(&mut k, &untimed);
    r.unregister(&mut k, &counting);
    // A session that fails to register leaves it as it was.
    k.fail_attach = Some(Phase::Enter);
    assert!(r.register(&mut k, &timed).is_err());
    assert_eq!(k.clocks, 0);
}

#[test]
fn nested_sessions_keep_the_outer_bits() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let outer = reg(&[0, 1], &[0, 1], &[10]);
    let inner = reg(&[0], &[0], &[10]);
    r.register(&mut k, &outer).unwrap();
    assert_eq!(k.only, Some(10), "one process: the fast path");
    r.register(&mut k, &inner).unwrap();
    r.register(&mut k, &reg(&[0], &[], &[11])).unwrap();
    assert_eq!(k.only, None, "two processes: the hash map");
    r.unregister(&mut k, &reg(&[0], &[], &[11]));
    assert_eq!(k.only, Some(10));
    r.unregister(&mut k, &inner);
    assert_eq!(k.bits[0], BTreeSet::from([0, 1]));
    assert_eq!(k.bits[1], BTreeSet::from([0, 1]));
    assert!(k.attached[0] && k.attached[1]);
    assert_eq!(k.tgids, BTreeMap::from([(10, TGID_TRACED)]));
    r.unregister(&mut k, &outer);
    assert!(k.bits[0].is_empty() && k.bits[1].is_empty());
    assert_eq!(k.attached, [false, false]);
    assert!(k.tgids.is_empty());
}

#[test]
fn a_launched_command_enables_the_execs_at_enter() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let launched = Registration {
        launched: Some(10),
        ..reg(&[], &[0], &[10])
    };
    r.register(&mut k, &launched).unwrap();
    assert_eq!(k.bits[0], BTreeSet::from(exec_syscalls()));
    assert_eq!(k.bits[1], BTreeSet::from([0]));
    assert_eq!(k.attached, [true, true]);
    r.unregister(&mut k, &launched);
    assert!(k.bits[0].is_empty() && k.bits[1].is_empty());
    assert_eq!(k.attached, [false, false]);
}

#[test]
fn enter_only_session_attaches_only_enter() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let only_enter = reg(&[3], &[], &[1]);
    r.register(&mut k, &only_enter).unwrap();
    assert_eq!(k.attached, [true, false]);
    r.unregister(&mut k, &only_enter);
    assert_eq!(k.attached, [false, false]);
}

#[test]
fn failed_attach_leaves_nothing_behind() {
    let (mut r, mut k) = (
        Registry::default(),
        FakeKernel {
            fail_attach: Some(Phase::Exit),
            ..Default::default()
        },
    );
    let both = Registration {
        processes: ProcessFilter::All,
        ..reg(&[1], &[1], &[])
    };
    assert!(r.register(&mut k, &both).is_err());
    assert!(k.bits[0].is_empty() && k.bits[1].is_empty());
    assert_eq!(k.attached, [false, false]);
    assert_eq!(k.all, 0);
    assert_eq!(r.sys_refcount(Phase::Enter), 0);
}

#[test]
fn hooks_are_chosen_after_every_change_of_the_set() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let one = reg(&[1], &[1], &[10]);
    let two = reg(&[2], &[], &[10]);
    r.register(&mut k, &one).unwrap();
    r.register(&mut k, &two).unwrap();
    r.unregister(&mut k, &one);
    r.unregister(&mut k, &two);
    let set = |e: &[u32], x: &[u32]| [e.iter().copied().collect(), x.iter().copied().collect()];
    // Each time with the bits already as they will be: the hooks follow them.
    assert_eq!(
        k.synced,
        vec![
            set(&[1], &[1]),
            set(&[1, 2], &[1]),
            set(&[2], &[]),
            set(&[], &[])
        ]
    );
}

#[test]
fn failed_choice_of_hooks_leaves_nothing_behind() {
    let (mut r, mut k) = (
        Registry::default(),
        FakeKernel {
            fail_sync: true,
            ..Default::default()
        },
    );
    let counting = Registration {
        count: BTreeSet::from([5]),
        ..reg(&[1], &[1], &[10])
    };
    assert!(r.register(&mut k, &counting).is_err());
    assert!(k.bits[0].is_empty() && k.bits[1].is_empty() && k.counted.is_empty());
    assert_eq!(k.attached, [false, false]);
    assert!(k.tgids.is_empty());
    assert_eq!(r.sys_refcount(Phase::Enter), 0);
    assert_eq!(r.refcount(Phase::Exit, 1), 0);
}

#[test]
fn follow_and_capture_are_refcounted() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let plain = reg(&[0], &[0], &[10]);
    let following = Registration {
        follow: true,
        capture: BTreeSet::from([0]),
        capture_size: 64,
        ..plain.clone()
    };
    let big = Registration {
        capture_size: 256,
        data_size: 33,
        ..following.clone()
    };
    r.register(&mut k, &plain).unwrap();
    r.register(&mut k, &following).unwrap();
    assert_eq!(k.tgids[&10], TGID_TRACED | TGID_FOLLOW);
    assert_eq!((k.follow, k.capture_size, k.data_size), (1, 64, 64));
    r.register(&mut k, &big).unwrap();
    // Each the largest asked for: the first session's data is 64 bytes.
    assert_eq!((k.follow, k.capture_size, k.data_size), (2, 256, 64));
    r.unregister(&mut k, &following);
    assert_eq!((k.follow, k.capture_size, k.data_size), (1, 256, 33));
    r.register(&mut k, &following).unwrap();
    r.unregister(&mut k, &big);
    r.unregister(&mut k, &following);
    assert_eq!(
        k.tgids[&10], TGID_TRACED,
        "the plain session does not follow"
    );
    assert_eq!((k.follow, k.capture_size), (0, 0));
    assert!(k.capture.is_empty());
    r.unregister(&mut k, &plain);
    assert!(k.tgids.is_empty());
}

#[test]
fn a_thread_stands_for_its_process() {
    let me = std::process::id();
    assert_eq!(check_process(me).unwrap(), me);
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() } as u32).unwrap();
        let _ = done_rx.recv();
    });
    let live = rx.recv().unwrap();
    assert_eq!(check_process(live).unwrap(), me);
    drop(done_tx);
    t.join().unwrap();
    assert!(check_process(u32::MAX / 2).is_err());
}

#[test]
fn a_kernel_thread_is_refused() {
    // kthreadd is pid 2 in the root pid namespace, where the tests run.
    let err = check_process(2).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("kernel thread")),
        "{err}"
    );
    // Kernels before 6.2 have no `Kthread:` line: the stat's flags tell.
    let me = std::process::id();
    assert!(super::is_kernel_thread(2, "Name:\tkthreadd\n"));
    assert!(!super::is_kernel_thread(me, "Name:\tsystrace\n"));
    assert!(!super::is_kernel_thread(me, "Kthread:\t0\n"));
}

#[test]
fn counting_first_threads_only_is_on_before_its_bits_and_refcounted() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let first = Registration {
        count: BTreeSet::from([0]),
        count_first_thread: true,
        ..reg(&[], &[], &[10])
    };
    let other = Registration {
        count: BTreeSet::from([1]),
        count_first_thread: true,
        ..reg(&[], &[], &[11])
    };
    r.register(&mut k, &first).unwrap();
    assert_eq!(
        (k.first_thread_counts, &k.first_thread_at_count[..]),
        (1, &[1][..])
    );
    r.register(&mut k, &other).unwrap();
    // Each process's first thread marked before its session's counting.
    assert_eq!(k.first_threads, [(10, 0), (11, 1)]);
    r.unregister(&mut k, &first);
    assert_eq!(
        k.first_thread_counts, 1,
        "the other session still counts so"
    );
    r.unregister(&mut k, &other);
    assert_eq!(k.first_thread_counts, 0);
    // A registration that fails leaves it as it was.
    k.fail_sync = true;
    assert!(r.register(&mut k, &first).is_err());
    assert_eq!(k.first_thread_counts, 0);
}

#[test]
fn counting_holds_both_programs_and_its_bits() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let counting = Registration {
        count: BTreeSet::from([0, 1]),
        ..reg(&[], &[], &[10])
    };
    let delivering = reg(&[0], &[], &[10]);
    r.register(&mut k, &counting).unwrap();
    assert_eq!(k.attached, [true, true], "counting needs enter and exit");
    assert!(
        k.bits[0].is_empty() && k.bits[1].is_empty(),
        "nothing delivered"
    );
    assert_eq!(k.counted, BTreeSet::from([0, 1]));
    r.register(&mut k, &delivering).unwrap();
    r.unregister(&mut k, &counting);
    assert!(k.counted.is_empty());
    assert_eq!(
        k.attached,
        [true, false],
        "the delivering session holds enter"
    );
    r.unregister(&mut k, &delivering);
    assert_eq!(k.attached, [false, false]);
}

#[test]
fn counting_execveat_counts_the_exit_it_returns_by() {
    // A successful execveat returns by execve's number: execve's count bit
    // is on while a session counts execveat, whoever else counts execve.
    let [execve, execveat] = exec_syscalls();
    let counting = |nrs: &[u32]| Registration {
        count: nrs.iter().copied().collect(),
        ..reg(&[], &[], &[10])
    };
    let (at, ve, both) = (
        counting(&[execveat]),
        counting(&[execve]),
        counting(&[execve, execveat]),
    );
    for order in [[&at, &ve], [&ve, &at]] {
        let (mut r, mut k) = (Registry::default(), FakeKernel::default());
        r.register(&mut k, order[0]).unwrap();
        r.register(&mut k, order[1]).unwrap();
        assert_eq!(k.counted, BTreeSet::from([execve, execveat]));
        r.unregister(&mut k, order[0]);
        let left = if std::ptr::eq(order[1], &at) {
            vec![execve, execveat]
        } else {
            vec![execve]
        };
        assert_eq!(k.counted, left.into_iter().collect());
        r.unregister(&mut k, order[1]);
        assert!(k.counted.is_empty());
    }
    // Both in one session; execveat alone.
    for one in [&both, &at] {
        let (mut r, mut k) = (Registry::default(), FakeKernel::default());
        r.register(&mut k, one).unwrap();
        assert_eq!(k.counted, BTreeSet::from([execve, execveat]));
        r.unregister(&mut k, one);
        assert!(k.counted.is_empty());
    }
}

#[test]
fn all_processes_is_counted() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let all = Registration {
        processes: ProcessFilter::All,
        ..reg(&[1], &[], &[])
    };
    r.register(&mut k, &all).unwrap();
    r.register(&mut k, &all).unwrap();
    r.unregister(&mut k, &all);
    assert_eq!(k.all, 1);
    r.unregister(&mut k, &all);
    assert_eq!(k.all, 0);
}

#[test]
fn the_programs_filter_a_syscall_only_if_every_session_does() {
    use crate::filter::{CallFilter, Op};
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let f = |n| {
        Arc::new(CallFilter {
            text: String::new(),
            ops: vec![Op::Not; n],
            at_exit: false,
        })
    };
    let filtered = |n| Registration {
        filters: BTreeMap::from([(0, f(n))]),
        ..reg(&[0], &[0], &[10])
    };
    let (a, b) = (filtered(1), filtered(2));
    r.register(&mut k, &a).unwrap();
    assert_eq!(k.filters, BTreeMap::from([(0, 1)]));
    r.register(&mut k, &b).unwrap();
    assert_eq!(k.filters, BTreeMap::from([(0, 4)]), "the OR of both");
    let plain = reg(&[0], &[], &[10]);
    r.register(&mut k, &plain).unwrap();
    assert!(k.filters.is_empty(), "one session takes every call");
    r.unregister(&mut k, &plain);
    r.unregister(&mut k, &a);
    assert_eq!(k.filters, BTreeMap::from([(0, 2)]));
    r.unregister(&mut k, &b);
    assert!(k.filters.is_empty());
    // The programs mark lost enters from before the filter is lifted to
    // after the last filtering session is gone.
    assert!(k.filtered_at_change.iter().all(|&(nr, on)| nr == 0 && on));
    assert!(k.session_filtered.is_empty());
}

#[test]
fn counting_sessions_of_a_syscall_count_through_one_filter() {
    use crate::filter::{CallFilter, Op};
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let f = |n| {
        Arc::new(CallFilter {
            text: String::new(),
            ops: vec![Op::Not; n],
            at_exit: false,
        })
    };
    let counting = |filter: Option<usize>| Registration {
        count: BTreeSet::from([0, 1]),
        filters: filter.map(|n| (0, f(n))).into_iter().collect(),
        ..reg(&[], &[], &[10])
    };
    let (a, same) = (counting(Some(1)), counting(Some(1)));
    r.register(&mut k, &a).unwrap();
    assert_eq!(k.count_filters, BTreeMap::from([(0, 1)]));
    r.register(&mut k, &same).unwrap();
    // Another filter, or none, would change the counts the others read.
    for other in [counting(Some(2)), counting(None)] {
        assert!(r.register(&mut k, &other).is_err());
        assert_eq!(k.count_filters, BTreeMap::from([(0, 1)]));
    }
    r.unregister(&mut k, &a);
    assert_eq!(k.count_filters, BTreeMap::from([(0, 1)]));
    r.unregister(&mut k, &same);
    assert!(k.count_filters.is_empty() && k.counted.is_empty());
    let other = counting(Some(2));
    r.register(&mut k, &other).unwrap();
    assert_eq!(k.count_filters, BTreeMap::from([(0, 2)]));
    r.unregister(&mut k, &other);
    assert!(k.count_filters.is_empty());
}

#[test]
fn a_count_overhead_is_set_before_its_bits_and_kept_while_sessions_take_it() {
    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    let by_root = |nr: u32, ns: u64| Registration {
        count: BTreeSet::from([nr]),
        count_by_root: true,
        count_overhead_ns: ns,
        ..reg(&[], &[], &[10])
    };
    let (first, same, other) = (by_root(0, 5000), by_root(1, 5000), by_root(2, 7));
    r.register(&mut k, &first).unwrap();
    assert_eq!(
        (k.count_overhead, &k.overhead_at_count[..]),
        (5000, &[5000][..])
    );
    r.register(&mut k, &same).unwrap();
    // Another value beside them is refused, and changes nothing.
    let err = r.register(&mut k, &other).unwrap_err().to_string();
    assert!(err.contains("5000 ns") && err.contains("7 ns"), "{err}");
    assert_eq!(
        (k.count_overhead, &k.counted),
        (5000, &BTreeSet::from([0, 1]))
    );
    r.unregister(&mut k, &first);
    assert_eq!(k.count_overhead, 5000);
    r.unregister(&mut k, &same);
    assert_eq!(k.count_overhead, 0);
    // Free again: the other value is taken now.
    r.register(&mut k, &other).unwrap();
    assert_eq!(k.count_overhead, 7);
    // Sessions counting per process never take one.
    let per_process = Registration {
        count_by_root: false,
        ..by_root(3, 99)
    };
    r.register(&mut k, &per_process).unwrap();
    assert_eq!(k.count_overhead, 7);
}

#[test]
fn a_launched_process_is_flagged_and_detaching_is_on_before_its_bits_and_refcounted() {
    use crate::kernel::layout::{TGID_LAUNCHED, TGID_TRACED};

    let (mut r, mut k) = (Registry::default(), FakeKernel::default());
    // The command's two sessions on its held process: the launched one
    // flags it (no detach at the exec that starts its trace), the
    // counting one, on the same pid, does not take the flag away.
    let launched = Registration {
        launched: Some(10),
        detach_on_execve: true,
        ..reg(&[1], &[1], &[10])
    };
    let counting = Registration {
        count: BTreeSet::from([2]),
        detach_on_execve: true,
        ..reg(&[], &[], &[10])
    };
    r.register(&mut k, &launched).unwrap();
    assert_eq!(
        (k.tgids[&10], k.detaching),
        (TGID_TRACED | TGID_LAUNCHED, 1)
    );
    r.register(&mut k, &counting).unwrap();
    assert_eq!(
        (k.tgids[&10], k.detaching),
        (TGID_TRACED | TGID_LAUNCHED, 2)
    );
    // Not written again for the flag alone: the launch is over, and the
    // programs may have let the process go since (as here).
    k.tgids.remove(&10);
    r.unregister(&mut k, &launched);
    assert_eq!((k.tgids.get(&10), k.detaching), (None, 1));
    r.unregister(&mut k, &counting);
    assert_eq!((k.tgids.get(&10), k.detaching), (None, 0));
    // A pid a session attaches to is no launch: its first exec detaches.
    r.register(&mut k, &reg(&[1], &[1], &[11])).unwrap();
    assert_eq!((k.tgids[&11], k.detaching), (TGID_TRACED, 0));
}
