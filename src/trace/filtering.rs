//! One session's event filters over its stream of events: the same
//! decisions as the programs' (`crate::filter`), made again for this
//! session alone, since the programs let through what any session wants.
//! Calls are decided whole: at the enter (the exit follows the enter's
//! verdict) or, for a filter naming `ret`, at the exit, the enter held
//! until then and delivered just before it.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::filter::{CallFilter, Values};
use crate::kernel::hooks::never_exits;
use crate::kernel::{Event, Phase};

#[derive(Default)]
pub struct SessionFilters {
    by_nr: HashMap<u32, Arc<CallFilter>>,
    /// Per thread: the syscall whose call passed at its enter.
    accepted: HashMap<u32, u32>,
    /// Per thread: the enter of a call decided at its exit.
    held: HashMap<u32, Event>,
    /// Held enters whose exit never came (lost to a full ring buffer,
    /// which counted the exit): the session's too, since not delivered.
    unpaired: u64,
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
        if self.held.get(&exit.tid).is_some_and(|h| h.nr == exit.nr) {
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
                if passes(f, Some(ev), None) {
                    self.accepted.insert(ev.tid, ev.nr);
                    Verdict::Keep
                } else {
                    self.accepted.remove(&ev.tid);
                    Verdict::Drop
                }
            }
            Phase::Exit if !f.at_exit => {
                if self.accepted.remove(&ev.tid) == Some(ev.nr) {
                    Verdict::Keep
                } else {
                    Verdict::Drop
                }
            }
            Phase::Exit => {
                let held = self.held.remove(&ev.tid).filter(|h| h.nr == ev.nr);
                // No enter: the call began before the session (not its
                // call), unless the session does not trace enters.
                if held.is_none() && traces_enter {
                    return Verdict::Drop;
                }
                if passes(f, held.as_ref(), Some(ev)) {
                    Verdict::KeepAfter(held)
                } else {
                    Verdict::Drop
                }
            }
        }
    }
}
