//! struct timespec: `{tv_sec=0, tv_nsec=100000000}`; utimensat's pair with
//! the date strace adds as a comment.
use serde_json::{json, Value};

use super::read_at;

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn timespec(bytes: &[u8], i: usize) -> Option<(i64, i64)> {
    Some((
        read_at::<i64>(bytes, 2 * i)?,
        read_at::<i64>(bytes, 2 * i + 1)?,
    ))
}

pub fn timespec_text(bytes: &[u8]) -> Option<String> {
    let (sec, nsec) = timespec(bytes, 0)?;
    Some(format!("{{tv_sec={sec}, tv_nsec={nsec}}}"))
}

pub fn timespec_value(bytes: &[u8]) -> Option<Value> {
    let (sec, nsec) = timespec(bytes, 0)?;
    Some(json!({"tv_sec": sec, "tv_nsec": nsec}))
}

/// `[{tv_sec=0, tv_nsec=1} /* 1970-01-01T00:00:00.000000001+0000 */, ...]`
/// (strace prints the date in local time; systrace in UTC).
pub fn timespec_pair_text(bytes: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    for i in 0..2 {
        let (sec, nsec) = timespec(bytes, i)?;
        parts.push(match nsec {
            // The name alone, whatever tv_sec holds (tar: `[UTIME_OMIT, {...}]`).
            UTIME_NOW => "UTIME_NOW".to_owned(),
            UTIME_OMIT => "UTIME_OMIT".to_owned(),
            _ => match nsec_date(sec, nsec) {
                Some(date) => format!("{{tv_sec={sec}, tv_nsec={nsec}}} /* {date} */"),
                None => format!("{{tv_sec={sec}, tv_nsec={nsec}}}"),
            },
        });
    }
    Some(format!("[{}]", parts.join(", ")))
}

pub fn timespec_pair_value(bytes: &[u8]) -> Option<Value> {
    let mut out = Vec::new();
    for i in 0..2 {
        let (sec, nsec) = timespec(bytes, i)?;
        out.push(json!({"tv_sec": sec, "tv_nsec": nsec}));
    }
    Some(Value::Array(out))
}

/// The date strace's sprinttime_nsec writes in a comment after a time:
/// whole seconds without a fraction; none for the epoch itself (0 s 0 ns)
/// nor for a tv_nsec that is not one.
pub(crate) fn nsec_date(sec: i64, nsec: i64) -> Option<String> {
    match nsec {
        0 if sec == 0 => None,
        0 => Some(format!("{}+0000", utc(sec))),
        1..=999_999_999 => Some(format!("{}.{nsec:09}+0000", utc(sec))),
        _ => None,
    }
}

/// `1970-01-01T00:00:00` of seconds since the epoch (UTC), by the
/// days-to-civil conversion of the proleptic Gregorian calendar.
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14T22:13:20");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00");
    }
}
