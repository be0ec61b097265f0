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
