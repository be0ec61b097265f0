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
    /// strace's names for -S (and their aliases: its column names, see
    /// [`Column::named`]). min-time and max-time are refused: the kernel's
    /// counts keep no per-call extremes.
    pub fn parse(name: &str) -> Result<Self, String> {
        match Column::named(name, "-S") {
            Ok(Some(Column::Percent | Column::Seconds)) => Ok(Self::Time),
            Ok(Some(Column::AvgTime)) => Ok(Self::AvgTime),
            Ok(Some(Column::Calls)) => Ok(Self::Calls),
            Ok(Some(Column::Errors)) => Ok(Self::Errors),
            Ok(Some(Column::Name)) => Ok(Self::Name),
            Ok(None) => Ok(Self::Nothing),
            Err(Some(err)) => Err(format!(
                "{err}; sort by time, avg-time, calls, errors, name or nothing"
            )),
            Err(None) => Err(format!(
                "invalid sortby: '{name}' (time, avg-time, calls, errors, name or nothing)"
            )),
        }
    }
}

/// A column of the table: strace's -U.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `% time`: the share of the time.
    Percent,
    /// `seconds`: the time.
    Seconds,
    /// `usecs/call`: the time per call.
    AvgTime,
    Calls,
    Errors,
    /// `syscall`: the name, always shown (last unless placed).
    Name,
}

/// strace's default columns.
pub const DEFAULT_COLUMNS: &[Column] = &[
    Column::Percent,
    Column::Seconds,
    Column::AvgTime,
    Column::Calls,
    Column::Errors,
    Column::Name,
];

impl Column {
    /// strace's column names and their aliases (its column_aliases, which
    /// -S and -U share): Ok(None) for `none`; Err(Some(message)) for the
    /// extremes the kernel's counts do not keep (`option`: which asks),
    /// Err(None) for a name strace does not know.
    fn named(name: &str, option: &str) -> Result<Option<Self>, Option<String>> {
        Ok(Some(match name {
            "time" | "time_percent" | "time-percent" => Self::Percent,
            "time_total" | "time-total" | "total_time" | "total-time" => Self::Seconds,
            "avg_time" | "avg-time" | "time_avg" | "time-avg" => Self::AvgTime,
            "calls" | "count" => Self::Calls,
            "error" | "errors" => Self::Errors,
            "name" | "syscall" | "syscall_name" | "syscall-name" => Self::Name,
            "none" | "nothing" => return Ok(None),
            "min_time" | "min-time" | "shortest" | "time_min" | "time-min" | "longest"
            | "max_time" | "max-time" | "time_max" | "time-max" => {
                return Err(Some(format!(
                    "{option} {name}: the counts keep no shortest or longest call per syscall"
                )))
            }
            _ => return Err(None),
        }))
    }

    /// strace's -U: comma-separated column names (and their aliases, but
    /// none, which strace refuses there); the name column is added last
    /// when not given. min-time and max-time are refused, as for -S.
    pub fn parse_list(spec: &str) -> Result<Vec<Column>, String> {
        let mut columns = Vec::new();
        for name in spec.split(',') {
            let column = match Self::named(name, "-U") {
                Ok(Some(column)) => column,
                Err(Some(err)) => return Err(err),
                Ok(None) | Err(None) => return Err(format!("unknown column name: '{name}'")),
            };
            if columns.contains(&column) {
                return Err(format!(
                    "call summary column has been provided more than once: '{name}'"
                ));
            }
            columns.push(column);
        }
        if !columns.contains(&Self::Name) {
            columns.push(Self::Name);
        }
        Ok(columns)
    }

    fn header(self) -> &'static str {
        match self {
            Self::Percent => "% time",
            Self::Seconds => "seconds",
            Self::AvgTime => "usecs/call",
            Self::Calls => "calls",
            Self::Errors => "errors",
            Self::Name => "syscall",
        }
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
    /// Taken off each call's time, down to 0 (strace's -O).
    overhead_ns: u64,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts with `overhead_ns` taken off each call's time, as strace -O.
    pub fn with_overhead(overhead_ns: u64) -> Self {
        Summary {
            overhead_ns,
            ..Self::default()
        }
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
        row.time_ns += duration_ns.saturating_sub(self.overhead_ns);
    }

    /// The rows, by syscall number.
    pub fn rows(&self) -> Vec<SummaryRow> {
        self.rows.values().cloned().collect()
    }

    pub fn format(&self, sort_by: SortBy, columns: &[Column]) -> String {
        format_summary(&self.rows(), sort_by, columns)
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The table of `rows` (given in syscall-number order, which breaks ties)
/// in the order `sort_by` says, with `columns` (strace's -U; the default:
/// [`DEFAULT_COLUMNS`]); nothing when no call was counted, as strace -c
/// prints nothing then.
pub fn format_summary(rows: &[SummaryRow], sort_by: SortBy, columns: &[Column]) -> String {
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
    let total = SummaryRow {
        name: "total".to_owned(),
        nr: 0,
        calls: rows.iter().map(|r| r.calls).sum(),
        errors: rows.iter().map(|r| r.errors).sum(),
        time_ns: rows.iter().map(|r| r.time_ns).sum(),
    };
    let avg_us = |r: &SummaryRow| avg_ns(r) / 1000;
    let max_avg = rows.iter().map(|r| avg_us(r)).max().unwrap_or(0);
    let name_max = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    // strace's widths: at least the historical ones, or what the totals
    // (the largest values) need.
    let width = |c: Column| match c {
        Column::Percent => 6,
        Column::Seconds => 11.max(format!("{:.6}", secs(total.time_ns)).len()),
        Column::AvgTime => 11.max(max_avg.to_string().len()),
        Column::Calls => 9.max(total.calls.to_string().len()),
        Column::Errors => 9.max(total.errors.to_string().len()),
        Column::Name => 16.max(name_max + 1),
    };
    let last = columns.len().saturating_sub(1);
    let mut out = String::new();
    // One line: each column right-aligned but the name, left-aligned
    // (and not padded when last).
    let line = |out: &mut String, cell: &dyn Fn(Column) -> String| {
        for (i, &c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let w = width(c);
            let text = cell(c);
            let _ = match c {
                Column::Name if i == last => write!(out, "{text}"),
                Column::Name => write!(out, "{text:<w$}"),
                _ => write!(out, "{text:>w$}"),
            };
        }
        out.push('\n');
    };
    line(&mut out, &|c| c.header().to_owned());
    let divider = |out: &mut String| line(out, &|c| "-".repeat(width(c)));
    divider(&mut out);
    // strace prints errors with "%.0lu": a zero count is blank.
    let cell = |r: &SummaryRow, pct: f64, c: Column| match c {
        Column::Percent => format!("{pct:.2}"),
        Column::Seconds => format!("{:.6}", secs(r.time_ns)),
        Column::AvgTime => avg_us(r).to_string(),
        Column::Calls => r.calls.to_string(),
        Column::Errors if r.errors == 0 => String::new(),
        Column::Errors => r.errors.to_string(),
        Column::Name => r.name.clone(),
    };
    for r in &rows {
        let pct = if r.time_ns == 0 {
            0.0
        } else {
            100.0 * secs(r.time_ns) / secs(total.time_ns)
        };
        line(&mut out, &|c| cell(r, pct, c));
    }
    divider(&mut out);
    line(&mut out, &|c| cell(&total, 100.0, c));
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
        let text = s.format(SortBy::Time, DEFAULT_COLUMNS);
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
        assert_eq!(format_summary(&[], SortBy::Time, DEFAULT_COLUMNS), "");
        let mut s = Summary::new();
        s.add(1, "write", false, 0);
        s.add(0, "read", false, 0);
        // Equal times keep syscall-number order.
        let text = s.format(SortBy::Time, DEFAULT_COLUMNS);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].ends_with(" read") && lines[3].ends_with(" write"));
    }

    #[test]
    fn long_names_widen_the_column() {
        let mut s = Summary::new();
        s.add(1, "a_very_long_syscall_name", false, 5);
        let text = s.format(SortBy::Time, DEFAULT_COLUMNS);
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
            let text = s.format(SortBy::parse(by).unwrap(), DEFAULT_COLUMNS);
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

    #[test]
    fn columns_as_strace_s_u_says() {
        let mut s = Summary::new();
        s.add(257, "openat", true, 30_000);
        s.add(0, "read", false, 60_000);
        let text = s.format(
            SortBy::Time,
            &Column::parse_list("name,calls,errors").unwrap(),
        );
        let expected = "\
syscall              calls    errors
---------------- --------- ---------
read                     1          
openat                   1         1
---------------- --------- ---------
total                    2         1
";
        assert_eq!(text, expected);
        let text = s.format(SortBy::Name, &Column::parse_list("calls").unwrap());
        assert_eq!(text.lines().next(), Some("    calls syscall"));
        assert_eq!(text.lines().nth(2), Some("        1 openat"));
        assert_eq!(
            Column::parse_list("time,total-time,avg_time,count,error").unwrap(),
            DEFAULT_COLUMNS
        );
        assert!(Column::parse_list("calls,count")
            .unwrap_err()
            .contains("more than once"));
        assert!(Column::parse_list("max-time")
            .unwrap_err()
            .contains("longest"));
        assert_eq!(
            Column::parse_list("bogus").unwrap_err(),
            "unknown column name: 'bogus'"
        );
    }
}
