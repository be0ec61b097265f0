//! A log2 latency histogram as bpftrace's `hist()` prints it: one row per
//! bucket from the first non-empty to the last, `[lo, hi)` with bpftrace's
//! K/M/G/T suffixes (powers of 1024: `[1K, 2K)` is 1024 to 2048 ns), the
//! count, and a bar of `@` 52 wide at the largest count.
//!
//! The counting session's buckets: bucket i counts durations of 2^i to
//! 2^(i+1) ns, except bucket 0 which counts 0 and 1 ns (`[0, 2)`).
use std::fmt::Write;

const BAR_WIDTH: u64 = 52;

/// bpftrace's label of 2^power: 1, 2, ... 512, 1K, 2K, ... 512K, 1M, ...
fn label(power: u32) -> String {
    let (suffix, power) = match power {
        40.. => ("T", power - 40),
        30.. => ("G", power - 30),
        20.. => ("M", power - 20),
        10.. => ("K", power - 10),
        _ => ("", power),
    };
    format!("{}{suffix}", 1u64 << power)
}

/// The rows of `hist` (bucket i: 2^i to 2^(i+1) ns), each ending in a
/// newline; empty when every bucket is 0.
pub fn format_histogram(hist: &[u64]) -> String {
    let mut out = String::new();
    let (Some(first), Some(last)) = (
        hist.iter().position(|&n| n > 0),
        hist.iter().rposition(|&n| n > 0),
    ) else {
        return out;
    };
    let max = hist.iter().copied().max().unwrap_or(0).max(1);
    for (i, &n) in hist.iter().enumerate().take(last + 1).skip(first) {
        let i = i as u32;
        let header = if i == 0 {
            "[0, 2)".to_owned()
        } else {
            format!("[{}, {})", label(i), label(i + 1))
        };
        // bpftrace: count / max * 52, truncated (u128: no overflow).
        let bar = (u128::from(n) * u128::from(BAR_WIDTH) / u128::from(max)) as usize;
        let _ = writeln!(
            out,
            "{header:<16}{n:>8} |{:<width$}|",
            "@".repeat(bar),
            width = BAR_WIDTH as usize
        );
    }
    out
}

/// The histogram of one syscall as bpftrace prints a map keyed by it:
/// `@ns[NAME]:` (or `@ns[NAME, PID]:`) and the rows.
pub fn format_named_histogram(name: &str, pid: Option<u32>, hist: &[u64]) -> String {
    let key = match pid {
        Some(pid) => format!("{name}, {pid}"),
        None => name.to_owned(),
    };
    format!("@ns[{key}]:\n{}", format_histogram(hist))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpftrace_layout() {
        let mut hist = vec![0u64; 40];
        hist[8] = 26; // [256, 512)
        hist[9] = 52; // [512, 1K): the widest bar
        hist[10] = 1; // [1K, 2K): less than one @
        hist[12] = 13; // [4K, 8K), after an empty bucket
        hist[20] = 1; // [1M, 2M)
        let text = format_named_histogram("getppid", None, &hist);
        let bar = |n: usize| format!("|{:<52}|", "@".repeat(n));
        let expected = [
            "@ns[getppid]:".to_owned(),
            format!("[256, 512)            26 {}", bar(26)),
            format!("[512, 1K)             52 {}", bar(52)),
            format!("[1K, 2K)               1 {}", bar(1)),
            format!("[2K, 4K)               0 {}", bar(0)),
            format!("[4K, 8K)              13 {}", bar(13)),
            format!("[8K, 16K)              0 {}", bar(0)),
            format!("[16K, 32K)             0 {}", bar(0)),
            format!("[32K, 64K)             0 {}", bar(0)),
            format!("[64K, 128K)            0 {}", bar(0)),
            format!("[128K, 256K)           0 {}", bar(0)),
            format!("[256K, 512K)           0 {}", bar(0)),
            format!("[512K, 1M)             0 {}", bar(0)),
            format!("[1M, 2M)               1 {}", bar(1)),
        ]
        .join("\n")
            + "\n";
        assert_eq!(text, expected);
        // One literal row, so the arithmetic above is not the only witness.
        assert!(text.contains(
            "\n[512, 1K)             52 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        ));
    }

    #[test]
    fn small_and_large_buckets() {
        let mut hist = vec![0u64; 40];
        hist[0] = 3;
        hist[1] = 1;
        hist[39] = 2;
        let text = format_histogram(&hist);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 40);
        assert_eq!(
            lines[0],
            format!("[0, 2)                 3 |{:<52}|", "@".repeat(52))
        );
        assert_eq!(
            lines[1],
            format!("[2, 4)                 1 |{:<52}|", "@".repeat(17))
        );
        assert!(lines[2].starts_with("[4, 8)                 0 |"));
        assert!(lines[39].starts_with("[512G, 1T)             2 |"));
    }

    #[test]
    fn empty_and_keyed() {
        assert_eq!(format_histogram(&[0; 40]), "");
        assert_eq!(format_histogram(&[]), "");
        assert_eq!(
            format_named_histogram("read", Some(42), &[0, 7]),
            format!(
                "@ns[read, 42]:\n[2, 4)                 7 |{}|\n",
                "@".repeat(52)
            )
        );
    }
}
