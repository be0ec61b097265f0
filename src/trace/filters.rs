//! Which filter the programs apply to each syscall number, from the
//! filters of every open session that traces it: none if one session
//! traces it unfiltered, else the OR of the sessions' (each session then
//! applies its own again, in `queue`). Part of the registry's bookkeeping,
//! under the same lock.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::registry::{exec_syscalls, Kernel, Registration};
use crate::filter::{kernel_filter, CallFilter};
use crate::kernel::types::systrace_filter_mode;
use crate::kernel::Phase;

const AT_ENTER: u32 = systrace_filter_mode::SYSTRACE_FILTER_AT_ENTER.0;

#[derive(Default)]
pub struct FilterRefs {
    /// Per number: sessions that trace it without a filter.
    unfiltered: HashMap<u32, u32>,
    /// Per number: the filters of the sessions that filter it.
    filtered: HashMap<u32, Vec<Arc<CallFilter>>>,
}

/// What the programs record for `reg`, either phase (a launched command's
/// execs included: they are never filtered).
fn traced(reg: &Registration) -> BTreeSet<u32> {
    let mut nrs = reg.enabled(Phase::Enter).into_owned();
    nrs.extend(reg.enabled(Phase::Exit).iter());
    nrs
}

impl FilterRefs {
    /// Before `reg`'s enable bits are set: the programs' filters widen to
    /// let its calls through, so none is missed when its bits go on.
    pub fn add(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        for nr in traced(reg) {
            match reg.filters.get(&nr) {
                Some(f) => self.filtered.entry(nr).or_default().push(Arc::clone(f)),
                None => *self.unfiltered.entry(nr).or_insert(0) += 1,
            }
            self.apply(kernel, nr);
        }
    }

    /// After `reg`'s enable bits are cleared.
    pub fn remove(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        for nr in traced(reg) {
            match reg.filters.get(&nr) {
                Some(f) => {
                    if let Some(list) = self.filtered.get_mut(&nr) {
                        if let Some(i) = list.iter().position(|g| Arc::ptr_eq(g, f)) {
                            list.swap_remove(i);
                        }
                        if list.is_empty() {
                            self.filtered.remove(&nr);
                        }
                    }
                }
                None => {
                    if let Some(n) = self.unfiltered.get_mut(&nr) {
                        *n -= 1;
                        if *n == 0 {
                            self.unfiltered.remove(&nr);
                        }
                    }
                }
            }
            self.apply(kernel, nr);
        }
    }

    fn apply(&self, kernel: &mut impl Kernel, nr: u32) {
        let mut filter = match (self.unfiltered.get(&nr), self.filtered.get(&nr)) {
            (None, Some(list)) => kernel_filter(list.iter().map(|f| &**f)),
            _ => None,
        };
        // An exec's exit cannot decide again: its registers are the new
        // program's. Its exits all go through; the sessions drop those of
        // the calls they rejected.
        if let Some(f) = filter.as_mut() {
            if f.mode == AT_ENTER && exec_syscalls().contains(&nr) {
                f.mode = systrace_filter_mode::SYSTRACE_FILTER_AT_ENTER_ONLY.0;
            }
        }
        // While a session filters the syscall, the programs mark the calls
        // whose enter the ring lost where they filter none of its calls:
        // marked from before the filter is lifted to after it is back.
        let filtered = self.filtered.contains_key(&nr);
        if filtered {
            kernel.set_session_filtered(nr, true);
        }
        kernel.set_filter(nr, filter.as_deref());
        if !filtered {
            kernel.set_session_filtered(nr, false);
        }
    }
}
