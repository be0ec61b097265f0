//! One session's event filters over its stream of events: the same
//! decisions as the programs' (`crate::filter`), made again for this
//! session alone, since the programs let through what any session wants.
//! Calls are decided whole: at the enter (the exit follows the enter's
//! verdict) or, for a filter naming `ret`, at the exit, the enter held
//! until then and delivered just before it.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::registry::exec_syscalls;
use crate::filter::{CallFilter, Values};
use crate::kernel::hooks::never_exits;
use crate::kernel::{Event, Phase};

#[derive(Default)]
pub struct SessionFilters {
    by_nr: HashMap<u32, Arc<CallFilter>>,
    /// Per thread: the call decided at its enter.
    decided: HashMap<u32, Decided>,
    /// Per thread: the enter of a call decided at its exit.
    held: HashMap<u32, Event>,
    /// The halves of calls whose other half was lost to a full ring buffer
    /// (which counted that half): held enters whose exit never came. The
    /// session's too, since not delivered. (The exit of a call whose enter
    /// was lost is not sent: the programs count it, see their
    /// session_filtered.)
    unpaired: u64,
}

/// A call decided at its enter: its syscall, whether it passed, and its
/// process (an exec's exit may come on another thread's id).
#[derive(Clone, Copy)]
struct Decided {
    nr: u32,
    pass: bool,
    pid: u32,
}

pub enum Verdict {
    Drop,
    Keep,
    /// Keep the exit, after its call's held enter (if the session has it).
    KeepAfter(Option<Event>),
}

/// A captured string argument of the call, from its enter or (read again
/// at exit) its exit.
fn string_of<'a>(events: &[Option<&'a Event>], arg: u8) -> Option<&'a [u8]> {
    events.iter().flatten().find_map(|ev| {
        ev.captures()
            .find(|c| c.arg == arg && !c.argv_elem && c.has_value())
            .map(|c| c.bytes)
    })
}

fn passes(f: &CallFilter, enter: Option<&Event>, exit: Option<&Event>) -> bool {
    let any = enter.or(exit).expect("an event of the call");
    let mut args = [0u64; 6];
    if let Some(e) = enter {
        args.copy_from_slice(&e.args[..6]);
    }
    let events = [enter, exit];
    let string = |arg: u8| string_of(&events, arg);
    f.pass(&Values {
        args,
        ret: exit.map_or(0, |e| e.ret),
        nr: any.nr,
        tid: any.tid,
        string: &string,
    })
}

fn is_exec(nr: u32) -> bool {
    exec_syscalls().contains(&nr)
}

/// Whether an exit of `exit_nr` ends a call of `enter_nr`: the same
/// syscall, or a successful execveat, whose exit is reported as execve's.
fn ends_call(enter_nr: u32, exit_nr: u32) -> bool {
    let [execve, execveat] = exec_syscalls();
    enter_nr == exit_nr || (enter_nr == execveat && exit_nr == execve)
}

/// The entry of `calls` (per thread) that `exit` ends, where that is not
/// the one under its own thread id: an exec by a thread other than the
/// first exits on the first's id (the process's), its enter seen under
/// its own. `of` gives an entry's syscall and process.
fn exec_by_another_thread<V>(
    calls: &mut HashMap<u32, V>,
    exit: &Event,
    of: impl Fn(&V) -> (u32, u32),
) -> Option<V> {
    if !is_exec(exit.nr) || exit.tid != exit.pid {
        return None;
    }
    let tid = calls.iter().find_map(|(&tid, v)| {
        let (nr, pid) = of(v);
        (tid != exit.tid && pid == exit.pid && is_exec(nr)).then_some(tid)
    })?;
    calls.remove(&tid)
}

impl SessionFilters {
    pub fn new(filters: &BTreeMap<u32, Arc<CallFilter>>) -> Self {
        SessionFilters {
            by_nr: filters.iter().map(|(&nr, f)| (nr, Arc::clone(f))).collect(),
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_nr.is_empty()
    }

    /// The held enters counted lost since the last call.
    pub fn take_unpaired(&mut self) -> u64 {
        std::mem::take(&mut self.unpaired)
    }

    /// `exit`, an exit after the session's end, ended its thread's held
    /// call: that call was not decided within the session (as one still
    /// running at the close), so its enter is neither delivered nor lost.
    pub fn end_after_close(&mut self, exit: &Event) {
        if self
            .held
            .get(&exit.tid)
            .is_some_and(|h| ends_call(h.nr, exit.nr))
        {
            self.held.remove(&exit.tid);
        }
    }

    /// At the close: the held enters left whose call ended (`running`
    /// says it did not) lost their exit to the ring buffer, which counted
    /// it, and are counted lost too. Before, the last call of a thread
    /// whose exit did not fit was in no count (one event of 200,000 short).
    pub fn settle(&mut self, running: impl Fn(&Event) -> bool) {
        for (_, enter) in self.held.drain() {
            if !never_exits(enter.nr) && !running(&enter) {
                self.unpaired += 1;
            }
        }
    }

    /// What to do with `ev`, an event the session traces; `traces_enter`:
    /// whether it traces the enter of `ev`'s syscall.
    pub fn apply(&mut self, ev: &Event, traces_enter: bool) -> Verdict {
        // A signal's or a thread exit's `nr` is the signal or 0, not a
        // syscall: no filter decides them (read's dropped every thread exit).
        if !ev.is_syscall() {
            return Verdict::Keep;
        }
        let Some(f) = self.by_nr.get(&ev.nr) else {
            return Verdict::Keep;
        };
        match ev.phase {
            Phase::Enter if f.at_exit => {
                // The thread's next call: the one held before it ended
                // without its exit seen.
                if let Some(earlier) = self.held.insert(ev.tid, ev.clone()) {
                    self.unpaired += u64::from(!never_exits(earlier.nr));
                }
                Verdict::Drop
            }
            Phase::Enter => {
                let pass = passes(f, Some(ev), None);
                let call = Decided {
                    nr: ev.nr,
                    pass,
                    pid: ev.pid,
                };
                self.decided.insert(ev.tid, call);
                if pass {
                    Verdict::Keep
                } else {
                    Verdict::Drop
                }
            }
            Phase::Exit if !f.at_exit => {
                let call = match self.decided.remove(&ev.tid) {
                    Some(d) if ends_call(d.nr, ev.nr) => Some(d),
                    _ => exec_by_another_thread(&mut self.decided, ev, |d| (d.nr, d.pid)),
                };
                match call {
                    Some(Decided { pass: true, .. }) => Verdict::Keep,
                    Some(_) => Verdict::Drop,
                    // The call began before the session, or its enter
                    // was lost, and the programs counted its exit.
                    None => Verdict::Drop,
                }
            }
            Phase::Exit => {
                let held = match self.held.remove(&ev.tid) {
                    Some(h) if ends_call(h.nr, ev.nr) => Some(h),
                    Some(earlier) => {
                        // An earlier call's, whose exit was lost.
                        self.unpaired += u64::from(!never_exits(earlier.nr));
                        None
                    }
                    None => None,
                }
                .or_else(|| exec_by_another_thread(&mut self.held, ev, |h| (h.nr, h.pid)));
                // No enter: the call began before the session (not its
                // call; or its enter was lost, and the programs counted
                // its exit), unless the session does not trace enters.
                if held.is_none() && traces_enter {
                    return Verdict::Drop;
                }
                // The call's own syscall's filter (an execveat's, not the
                // execve's its exit is reported as).
                let f = held
                    .as_ref()
                    .and_then(|h| self.by_nr.get(&h.nr))
                    .unwrap_or(f);
                if passes(f, held.as_ref(), Some(ev)) {
                    Verdict::KeepAfter(held)
                } else {
                    Verdict::Drop
                }
            }
        }
    }
}
