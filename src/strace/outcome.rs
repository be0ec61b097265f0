//! How calls and processes end: strace's `-e status=` classes of a call
//! (what -z and -Z keep), and a process's end as the `+++ exited with 0 +++`
//! line, or as a JSON object in the command's JSON lines.
use serde_json::json;

use super::call::Call;
use super::errno;

/// The `-e status=` classes a call can be in, as strace names them.
pub const STATUS_NAMES: [&str; 5] = [
    "successful",
    "failed",
    "unfinished",
    "unavailable",
    "detached",
];

/// Which calls are shown, by how they ended (strace's -e status=).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFilter {
    /// Returned without an error (-z).
    pub successful: bool,
    /// Returned an error (-Z).
    pub failed: bool,
    /// Did not return: exit_group, a thread that died in the call, or the
    /// end of tracing.
    pub unfinished: bool,
}

impl Default for StatusFilter {
    fn default() -> Self {
        StatusFilter {
            successful: true,
            failed: true,
            unfinished: true,
        }
    }
}

/// The classes `-e status=SPEC` selects, as strace reads SPEC: names,
/// `all`, `none`, comma-separated, a leading `!` for the others.
pub fn status_classes(spec: &str) -> Result<Vec<&'static str>, String> {
    let (negate, list) = match spec.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let mut chosen = [false; STATUS_NAMES.len()];
    for item in list.split(',') {
        match item.trim() {
            "all" => chosen = [true; STATUS_NAMES.len()],
            "none" => {}
            name => match STATUS_NAMES.iter().position(|n| *n == name) {
                Some(i) => chosen[i] = true,
                None => return Err(format!("invalid status '{name}'")),
            },
        }
    }
    Ok(STATUS_NAMES
        .iter()
        .zip(chosen)
        .filter(|&(_, on)| on != negate)
        .map(|(n, _)| *n)
        .collect())
}

impl StatusFilter {
    /// The filter of a set of strace's class names. "unavailable" (strace
    /// could not read the return value) and "detached" (strace let go of the
    /// process in the call) never happen here: a call either returned or did
    /// not, and those count as unfinished.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut f = StatusFilter {
            successful: false,
            failed: false,
            unfinished: false,
        };
        for name in names {
            match name.as_ref() {
                "successful" => f.successful = true,
                "failed" => f.failed = true,
                "unfinished" => f.unfinished = true,
                "unavailable" | "detached" => {}
                other => {
                    return Err(format!(
                        "unknown status {other:?} (statuses: {})",
                        STATUS_NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(f)
    }

    /// Whether `call` is shown.
    pub fn shows(&self, call: &Call) -> bool {
        match call.ret() {
            None => self.unfinished,
            Some(r) if errno::errno_of(r).is_some() => self.failed,
            Some(_) => self.successful,
        }
    }
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessEnd {
    Exited(i32),
    /// The signal by name (`SIGKILL`).
    Killed {
        signal: String,
        core_dumped: bool,
    },
}

impl ProcessEnd {
    /// The end a thread's exit_code tells (as a wait status: the exit
    /// status in bits 8-15, or the signal, with 0x80 for a core dump).
    pub fn from_exit_code(code: i32) -> Self {
        match code & 0x7f {
            0 => ProcessEnd::Exited((code >> 8) & 0xff),
            sig => ProcessEnd::Killed {
                signal: super::signals::signal_name(sig),
                core_dumped: code & 0x80 != 0,
            },
        }
    }

    /// The end a `+++ ... +++` line tells (the launcher writes those of
    /// the command it ran); None for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.strip_prefix("+++ ")?.strip_suffix(" +++")?;
        if let Some(code) = inner.strip_prefix("exited with ") {
            return code.parse().ok().map(ProcessEnd::Exited);
        }
        let killed = inner.strip_prefix("killed by ")?;
        let (signal, core_dumped) = match killed.strip_suffix(" (core dumped)") {
            Some(signal) => (signal, true),
            None => (killed, false),
        };
        Some(ProcessEnd::Killed {
            signal: signal.to_owned(),
            core_dumped,
        })
    }

    /// `+++ exited with 0 +++`, `+++ killed by SIGKILL (core dumped) +++`.
    pub fn strace_text(&self) -> String {
        match self {
            ProcessEnd::Exited(code) => format!("+++ exited with {code} +++"),
            ProcessEnd::Killed {
                signal,
                core_dumped,
            } => format!(
                "+++ killed by {signal}{} +++",
                if *core_dumped { " (core dumped)" } else { "" }
            ),
        }
    }

    /// The JSON object of the command's JSON lines:
    /// `{"event": "exit", "pid": 42, "status": 0}` or `{"event": "killed",
    /// "pid": 42, "signal": "SIGKILL", "core_dumped": false}`.
    pub fn json(&self, pid: u32) -> serde_json::Value {
        match self {
            ProcessEnd::Exited(code) => json!({"event": "exit", "pid": pid, "status": code}),
            ProcessEnd::Killed {
                signal,
                core_dumped,
            } => json!({
                "event": "killed",
                "pid": pid,
                "signal": signal,
                "core_dumped": core_dumped,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ends() {
        for text in [
            "+++ exited with 3 +++",
            "+++ killed by SIGKILL +++",
            "+++ killed by SIGSEGV (core dumped) +++",
        ] {
            assert_eq!(ProcessEnd::parse(text).unwrap().strace_text(), text);
        }
        assert_eq!(
            ProcessEnd::parse("+++ exited with 3 +++"),
            Some(ProcessEnd::Exited(3))
        );
        assert_eq!(ProcessEnd::parse("exited with 3"), None);
        let killed = ProcessEnd::parse("+++ killed by SIGKILL +++").unwrap();
        assert_eq!(
            ProcessEnd::Exited(0).json(7).to_string(),
            r#"{"event":"exit","pid":7,"status":0}"#
        );
        assert_eq!(
            killed.json(7).to_string(),
            r#"{"event":"killed","pid":7,"signal":"SIGKILL","core_dumped":false}"#
        );
    }

    #[test]
    fn status_specs() {
        assert_eq!(status_classes("failed").unwrap(), ["failed"]);
        assert_eq!(
            status_classes("!failed").unwrap(),
            ["successful", "unfinished", "unavailable", "detached"]
        );
        assert_eq!(status_classes("all").unwrap(), STATUS_NAMES);
        assert!(status_classes("none").unwrap().is_empty());
        assert_eq!(
            status_classes("bogus").unwrap_err(),
            "invalid status 'bogus'"
        );
    }

    #[test]
    fn status_names() {
        let f = StatusFilter::from_names(&["failed"]).unwrap();
        assert!(f.failed && !f.successful && !f.unfinished);
        assert!(StatusFilter::from_names(&["bogus"]).is_err());
    }
}
