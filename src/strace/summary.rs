//! The `strace -c` table: per syscall the share of time, seconds, average
//! microseconds per call, calls, errors; sorted by time, most first (or as
//! strace's -S says), then a total line. Columns and widths as strace
//! prints them. The time here is the time between the enter and the exit
//! of each call (strace -c -w).
use std::fmt::Write;

/// The order of the table's rows: strace's -S.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Most time first (strace's default).
    #[default]
    Time,
    /// Most time per call first.
    AvgTime,
    /// Most calls first.
    Calls,
    /// Most errors first.
    Errors,
    /// By name.
    Name,
    /// By syscall number, unsorted.
    Nothing,
}

impl SortBy {
    /// strace's names for -S (and their aliases). min-time and max-time
    /// are refused: the kernel's counts keep no per-call extremes.
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "time" | "time_percent" | "time-percent" | "time_total" | "time-total"
            | "total_time" | "total-time" => Self::Time,
            "avg_time" | "avg-time" | "time_avg" | "time-avg" => Self::AvgTime,
            "calls" | "count" => Self::Calls,
            "error" | "errors" => Self::Errors,
            "name" | "syscall" | "syscall_name" | "syscall-name" => Self::Name,
            "none" | "nothing" => Self::Nothing,
            "min_time" | "min-time" | "shortest" | "time_min" | "time-min" | "longest"
            | "max_time" | "max-time" | "time_max" | "time-max" => {
                return Err(format!(
                    "-S {name}: the counts keep no shortest or longest call per syscall; \
                     sort by time, avg-time, calls, errors, name or nothing"
                ))
            }
            _ => {
                return Err(format!(
                    "invalid sortby: '{name}' (time, avg-time, calls, errors, name or nothing)"
                ))
            }
        })
    }
}

/// The counts of one syscall.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SummaryRow {
    pub name: String,
    pub nr: u32,
    pub calls: u64,
    pub errors: u64,
    pub time_ns: u64,
}

/// Counts calls as they complete.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    rows: std::collections::BTreeMap<u32, SummaryRow>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// One returned call: `failed` when it returned an error.
    pub fn add(&mut self, nr: u32, name: &str, failed: bool, duration_ns: u64) {
        let row = self.rows.entry(nr).or_insert_with(|| SummaryRow {
            name: name.to_owned(),
            nr,
            ..SummaryRow::default()
        });
        row.calls += 1;
        row.errors += u64::from(failed);
        row.time_ns += duration_ns;
    }

    /// The rows, by syscall number.
    pub fn rows(&self) -> Vec<SummaryRow> {
        self.rows.values().cloned().collect()
    }

    pub fn format(&self, sort_by: SortBy) -> String {
        format_summary(&self.rows(), sort_by)
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The table of `rows` (given in syscall-number order, which breaks ties)
/// in the order `sort_by` says; nothing when no call was counted, as strace
/// -c prints nothing then.
pub fn format_summary(rows: &[SummaryRow], sort_by: SortBy) -> String {
    let mut rows: Vec<&SummaryRow> = rows.iter().filter(|r| r.calls > 0).collect();
    if rows.is_empty() {
        return String::new();
    }
    let avg_ns = |r: &SummaryRow| r.time_ns.checked_div(r.calls).unwrap_or(0);
    // Stable: equal keys keep syscall-number order, as strace's do.
    match sort_by {
        SortBy::Time => rows.sort_by_key(|r| std::cmp::Reverse(r.time_ns)),
        SortBy::AvgTime => rows.sort_by_key(|r| std::cmp::Reverse(avg_ns(r))),
        SortBy::Calls => rows.sort_by_key(|r| std::cmp::Reverse(r.calls)),
        SortBy::Errors => rows.sort_by_key(|r| std::cmp::Reverse(r.errors)),
        SortBy::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        SortBy::Nothing => {}
    }
    let total_ns: u64 = rows.iter().map(|r| r.time_ns).sum();
    let total_calls: u64 = rows.iter().map(|r| r.calls).sum();
    let total_errors: u64 = rows.iter().map(|r| r.errors).sum();
    let avg_us = |ns: u64, calls: u64| ns.checked_div(calls).unwrap_or(0) / 1000;
    let max_avg = rows
        .iter()
        .map(|r| avg_us(r.time_ns, r.calls))
        .max()
        .unwrap_or(0);
    let name_max = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);

    let w_pct = 6;
    let w_sec = 11.max(format!("{:.6}", secs(total_ns)).len());
    let w_avg = 11.max(max_avg.to_string().len());
    let w_calls = 9.max(total_calls.to_string().len());
    let w_err = 9.max(total_errors.to_string().len());
    let w_name = 16.max(name_max + 1);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>w_pct$} {:>w_sec$} {:>w_avg$} {:>w_calls$} {:>w_err$} syscall",
        "% time", "seconds", "usecs/call", "calls", "errors"
    );
    let divider = [w_pct, w_sec, w_avg, w_calls, w_err, w_name]
        .iter()
        .map(|&w| "-".repeat(w))
        .collect::<Vec<_>>()
        .join(" ");
    out.push_str(&divider);
    out.push('\n');
    // strace prints errors with "%.0lu": a zero count is blank.
    let errors = |n: u64| if n == 0 { String::new() } else { n.to_string() };
    for r in &rows {
        let pct = if r.time_ns == 0 {
            0.0
        } else {
            100.0 * secs(r.time_ns) / secs(total_ns)
        };
        let _ = writeln!(
            out,
            "{:>w_pct$.2} {:>w_sec$.6} {:>w_avg$} {:>w_calls$} {:>w_err$} {}",
            pct,
            secs(r.time_ns),
            avg_us(r.time_ns, r.calls),
            r.calls,
            errors(r.errors),
            r.name
        );
    }
    out.push_str(&divider);
    out.push('\n');
    let _ = writeln!(
        out,
        "{:>w_pct$.2} {:>w_sec$.6} {:>w_avg$} {:>w_calls$} {:>w_err$} total",
        100.0,
        secs(total_ns),
        avg_us(total_ns, total_calls),
        total_calls,
        errors(total_errors),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_layout() {
        let mut s = Summary::new();
        s.add(257, "openat", false, 30_000);
        s.add(257, "openat", true, 10_000);
        s.add(0, "read", false, 60_000);
        s.add(3, "close", false, 0);
        let text = s.format(SortBy::Time);
        let expected = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.00    0.000060          60         1           read
 40.00    0.000040          20         2         1 openat
  0.00    0.000000           0         1           close
------ ----------- ----------- --------- --------- ----------------
100.00    0.000100          25         4         1 total
";
        assert_eq!(text, expected);
    }

    #[test]
    fn empty_and_all_zero() {
        // strace -c prints nothing when it counted nothing.
        assert_eq!(format_summary(&[], SortBy::Time), "");
        let mut s = Summary::new();
        s.add(1, "write", false, 0);
        s.add(0, "read", false, 0);
        // Equal times keep syscall-number order.
        let text = s.format(SortBy::Time);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].ends_with(" read") && lines[3].ends_with(" write"));
    }

    #[test]
    fn long_names_widen_the_column() {
        let mut s = Summary::new();
        s.add(1, "a_very_long_syscall_name", false, 5);
        let text = s.format(SortBy::Time);
        let divider = text.lines().nth(1).unwrap();
        assert!(divider.ends_with(&"-".repeat(25)));
    }

    #[test]
    fn sorted_as_strace_s_says() {
        let mut s = Summary::new();
        s.add(257, "openat", false, 30_000);
        s.add(257, "openat", true, 10_000);
        s.add(0, "read", false, 60_000);
        s.add(3, "close", true, 0);
        s.add(3, "close", true, 0);
        s.add(3, "close", false, 0);
        let order = |by: &str| -> Vec<String> {
            let text = s.format(SortBy::parse(by).unwrap());
            let lines: Vec<&str> = text.lines().collect();
            lines[2..lines.len() - 2]
                .iter()
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
                .collect()
        };
        assert_eq!(order("time"), ["read", "openat", "close"]);
        assert_eq!(order("avg-time"), ["read", "openat", "close"]);
        assert_eq!(order("calls"), ["close", "openat", "read"]);
        assert_eq!(order("errors"), ["close", "openat", "read"]);
        assert_eq!(order("name"), ["close", "openat", "read"]);
        assert_eq!(order("nothing"), ["read", "close", "openat"]);
        assert!(SortBy::parse("max-time").unwrap_err().contains("max-time"));
        assert!(SortBy::parse("bogus")
            .unwrap_err()
            .contains("invalid sortby: 'bogus'"));
    }
}
