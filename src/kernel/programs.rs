//! The BPF side seen from Rust: loads the programs of bpf/systrace.bpf.c,
//! attaches and detaches each phase's program, and writes the enable bitmaps
//! and the process filter that the programs read.
//!
//! This is the only module that touches the kernel's BPF objects; the
//! refcounting that decides when to call it lives in `register`.
use std::collections::{BTreeSet, HashMap};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, MapHandle, PrintLevel};

use super::core_btf;
use super::decode::EventKind;
use super::hooks::HookMode;
use super::layout::{
    bit_of, enter_record_size, Phase, MAX_ARGS, NR_SYSCALLS, PHASE_ENTER, PHASE_EXIT, PHASE_SIGNAL,
    PHASE_TASK_EXIT, TGID_DISCOVERED,
};
pub(super) use super::skel::{OpenSystraceSkel, SystraceSkel, SystraceSkelBuilder};
use super::startup::step;
use super::types;
use crate::error::{Error, Result};

/// The BTF the CO-RE relocations need.
const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";
/// The largest syscall record without user memory, with the ring buffer's
/// 8-byte header: what the wake-up count is sized by.
const PLAIN_RECORD_MAX: u64 = (enter_record_size(MAX_ARGS) + 8) as u64;

/// Processes traced at once at most (the process filter's entries).
pub const MAX_PROCESSES_ENV: &str = "SYSTRACE_MAX_PROCESSES";
/// The counting maps' entries (process, ancestor, syscall; and errno).
pub const MAX_COUNTS_ENV: &str = "SYSTRACE_MAX_COUNTS";

/// A positive limit from the environment, if set.
fn env_limit(var: &str) -> Result<Option<u32>> {
    match std::env::var(var) {
        Err(_) => Ok(None),
        Ok(value) => match value.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::InvalidArgument(format!(
                "{var}={value:?}: a positive number of entries"
            ))),
        },
    }
}

/// nb_args entry of a number without metadata: the record carries all args.
pub const NB_ARGS_UNKNOWN: u8 = 0xff;

/// What libbpf printed while we were loading, to put into the error we raise
/// instead of letting it spill onto the user's stderr.
static LIBBPF_LOG: Mutex<String> = Mutex::new(String::new());

fn capture_libbpf_log(_level: PrintLevel, msg: String) {
    let mut log = LIBBPF_LOG.lock().unwrap_or_else(|e| e.into_inner());
    // Keep the tail: the verifier's log can be long and its end says why.
    if log.len() > 16 * 1024 {
        let cut = log.len() - 8 * 1024;
        let cut = (cut..log.len())
            .find(|&i| log.is_char_boundary(i))
            .unwrap_or(log.len());
        log.replace_range(..cut, "...");
    }
    log.push_str(&msg);
}

/// The names of the programs `object` loads.
fn autoloaded(object: &libbpf_rs::Object) -> String {
    object
        .progs()
        .filter(|p| p.autoload())
        .map(|p| p.name().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn take_libbpf_log() -> String {
    std::mem::take(&mut *LIBBPF_LOG.lock().unwrap_or_else(|e| e.into_inner()))
        .trim_end()
        .to_owned()
}

/// The loaded programs and maps of one process.
#[path = "programs_filter.rs"]
mod filter;
#[path = "programs_tasks.rs"]
mod tasks;
pub use filter::FilterUse;
use tasks::{TASKS_BESIDE_EXIT_HOOK, TASK_PROGRAMS};

/// What a load of the programs can do beyond delivering events (the
/// `with_*` constants of bpf/state.bpf.h): the verifier skips the code of
/// what is off, which makes the load some 40% faster. The library loads
/// everything; the command only what its options use (issue 15: start-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Counting in the kernel (`count=True`, the command's -c).
    pub count: bool,
    /// Event filters decided in the programs (`filter=`, -e status=).
    pub filters: bool,
    /// The capture kinds the programs can read (bits of
    /// `systrace_capture_kind`; the command's `-e trace=read` uses 5 of 20).
    pub captures: u32,
    /// The time in every record (`with_clock`): some 35-50 ns a record on
    /// this machine kind. Without it the consumer numbers the records.
    pub clock: bool,
    /// Counts kept per traced root and syscall, not per process
    /// (`count_by_root`): the command's -c, exact for any number of
    /// processes; no count per process can be read from them.
    pub count_by_root: bool,
}

impl Features {
    pub const ALL: Features = Features {
        count: true,
        filters: true,
        captures: u32::MAX,
        clock: true,
        count_by_root: false,
    };

    /// Whether a load with `self` can do everything `other` asks.
    pub fn covers(self, other: Features) -> bool {
        (self.count || !other.count)
            && (self.filters || !other.filters)
            && other.captures & !self.captures == 0
            && (self.clock || !other.clock)
            && !(self.count_by_root && other.count && !other.count_by_root)
    }
}

pub struct Programs {
    pub(super) skel: SystraceSkel<'static>,
    pub(super) bss: NonNull<types::bss>,
    /// The raw_syscalls hooks, per phase.
    pub(super) links: [Option<Link>; 2],
    /// The syscalls whose per-syscall events we hook, per phase. The
    /// hooks themselves are the reaper's, in its threads' fd table.
    pub(super) event_links: [BTreeSet<u32>; 2],
    /// Holds the per-syscall hooks, and closes those no longer wanted in
    /// the background.
    pub(super) reaper: super::reaper::Reaper,
    /// Hooks were retired since the last wait for running probes.
    pub(super) unsettled: bool,
    /// Waits for running probes so far (a grace period each).
    pub(super) probe_waits: u64,
    /// The hook programs of each kind (HookMode as index), once loaded.
    pub(super) kinds: [Option<SystraceSkel<'static>>; 2],
    /// The kind whose programs `skel` loaded itself, if any.
    pub(super) main_kind: Option<HookMode>,
    /// Phases some session enabled (the registry's attach/detach).
    pub(super) phase_on: [bool; 2],
    pub(super) mode: HookMode,
    pub(super) switches: u64,
    pub(super) handoff_gen: u32,
    /// Whether the programs of task events were loaded with the object
    /// (in `skel`, and `exit_copy` when there is one: see `tasks`); else
    /// `task_copy` loads them once a session first wants them.
    tasks_first: bool,
    pub(super) task_copy: Option<SystraceSkel<'static>>,
    /// The exit hook of `main_kind`, loaded beside `skel` (see `load`).
    pub(super) exit_copy: Option<SystraceSkel<'static>>,
    /// sched_process_fork, while some session follows forks.
    fork_link: Option<Link>,
    /// sched_process_exit, while some session follows forks or wants thread exits.
    exit_link: Option<Link>,
    /// signal_deliver and signal_generate, while some session wants signals.
    signal_links: Option<[Link; 2]>,
    traced_tgids: MapHandle,
    dropped: MapHandle,
    counts: MapHandle,
    errnos: MapHandle,
    /// Preallocated entries for the calls whose counts or errnos entry the
    /// kernel could not allocate at the call (bpf/state.bpf.h).
    spare_counts: MapHandle,
    spare_errnos: MapHandle,
    /// The filters' slots (bpf/state.bpf.h), and which are free.
    filter_slots_map: MapHandle,
    /// The threads' start marks of counting (task storage).
    starts: MapHandle,
    slots: Mutex<filter::FilterSlots>,
    buffer_size: usize,
    features: Features,
    /// The file of kernel types the programs were relocated against
    /// (`core_btf`), or None: the kernel's own BTF.
    core_btf: Option<PathBuf>,
}

// SAFETY: `bss` points into the skeleton's mmap of the .bss map, which lives
// as long as `skel` does; all access through it is atomic (see `bitmap`).
unsafe impl Send for Programs {}
unsafe impl Sync for Programs {}

fn set_bit(bitmap: &[AtomicU64], nr: u32, on: bool) {
    let (word, bit) = bit_of(nr);
    if on {
        bitmap[word].fetch_or(bit, Ordering::SeqCst);
    } else {
        bitmap[word].fetch_and(!bit, Ordering::SeqCst);
    }
}

impl Programs {
    /// Opens, relocates and loads the programs (of the hooks, those of kind
    /// `first`; see `Programs::kind`); nothing is attached yet.
    /// `nb_args[nr]` is the number of args of syscall `nr`.
    /// `sigreturn_nr`: rt_sigreturn's number, whose calls are counted at
    /// enter (it never exits).
    pub fn load(
        buffer_size: usize,
        nb_args: &[u8; NR_SYSCALLS],
        capture_specs: &[types::systrace_capture_spec; NR_SYSCALLS],
        sigreturn_nr: u32,
        first: Option<HookMode>,
        tasks_first: bool,
        features: Features,
    ) -> Result<Self> {
        if !Path::new(VMLINUX_BTF).exists() {
            return Err(Error::Unsupported(format!(
                "this kernel exposes no BTF ({VMLINUX_BTF} is missing): systrace's CO-RE \
                 programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y"
            )));
        }
        libbpf_rs::set_print(Some((PrintLevel::Warn, capture_libbpf_log)));
        take_libbpf_log();

        // A limit a user may lower or raise (documented in the README); the
        // tests lower it to reach it with few processes.
        let max_processes = env_limit(MAX_PROCESSES_ENV)?;
        let max_counts = env_limit(MAX_COUNTS_ENV)?;
        let core_btf = core_types();
        // Before any object of this load is opened (see raw_targets::set).
        super::raw_targets::set(core_btf.as_deref().and_then(core_btf::raw_hook_targets));
        // Every error here is libbpf's or the kernel's.
        type Loaded = (SystraceSkel<'static>, Option<SystraceSkel<'static>>);
        // Opens, sizes and prepares the object (its maps), sends its maps to
        // the copy that loads `apart`, and loads the rest.
        let load_first = |core: Option<&Path>,
                          apart: &[&str],
                          send_maps: std::sync::mpsc::SyncSender<Vec<(String, OwnedFd)>>|
         -> Result<SystraceSkel<'static>> {
            let mut open = open_object(core, "open the BPF object")?;
            open.maps
                .events
                .set_max_entries(buffer_size as u32)
                .map_err(|e| Error::bpf("sizing the ring buffer", e, &take_libbpf_log()))?;
            if let Some(n) = max_processes {
                open.maps.traced_tgids.set_max_entries(n).map_err(|e| {
                    Error::bpf(&format!("sizing a map for {MAX_PROCESSES_ENV}"), e, "")
                })?;
            }
            let rodata = open
                .maps
                .rodata_data
                .as_deref_mut()
                .expect("the object has .rodata");
            rodata.with_count = features.count;
            rodata.with_filters = features.filters;
            rodata.capture_kinds = features.captures;
            rodata.with_clock = features.clock;
            rodata.count_by_root = features.count_by_root;
            if let (true, Some(n)) = (features.count, max_counts) {
                for map in [&mut open.maps.counts, &mut open.maps.errnos] {
                    map.set_max_entries(n).map_err(|e| {
                        Error::bpf(&format!("sizing a map for {MAX_COUNTS_ENV}"), e, "")
                    })?;
                }
            }
            // The spare entries (made at load): a sixty-fourth of the maps.
            let spare = match (features.count, max_counts) {
                (false, _) => 1,
                (true, n) => (n.unwrap_or(1 << 16) / 64).clamp(16, 1 << 10),
            };
            for map in [&mut open.maps.spare_counts, &mut open.maps.spare_errnos] {
                map.set_max_entries(spare)
                    .map_err(|e| Error::bpf("sizing the counting maps", e, ""))?;
            }
            if !features.count {
                // The counting maps' bucket arrays (1 MiB each) are never used.
                for map in [&mut open.maps.counts, &mut open.maps.errnos] {
                    map.set_max_entries(1)
                        .map_err(|e| Error::bpf("sizing the counting maps", e, ""))?;
                }
            }
            if !features.filters {
                // Nor the filters' slots (1 MiB, zeroed at creation: about a
                // millisecond of the command's load). A session with a filter
                // loads again, with them (Features::covers).
                open.maps
                    .filter_slots
                    .set_max_entries(1)
                    .map_err(|e| Error::bpf("sizing the filters' slots", e, ""))?;
            }
            // The hooks of each kind are loaded from their own copy of the
            // object when first needed (see `Programs::kind`): a run that
            // never uses one kind does not pay the verifier for it.
            // `first`, the kind the first session will likely use, is loaded
            // with this object: no second parse of the kernel's BTF for it.
            // The programs of task events (forks, exits, signals) likewise:
            // with this object when the first session wants them, else on
            // first use (`Programs::tasks`).
            for mut prog in open.open_object_mut().progs_mut() {
                let elsewhere = apart.iter().any(|name| prog.name() == *name);
                if let Some(kind) = super::hooks::hook_kind(prog.name()) {
                    prog.set_autoload(Some(kind) == first && !elsewhere);
                } else if TASK_PROGRAMS.iter().any(|p| prog.name() == *p) {
                    prog.set_autoload(tasks_first && !elsewhere);
                }
            }
            let start = std::time::Instant::now();
            let object = libbpf_rs::AsRawLibbpf::as_libbpf_object(open.open_object());
            // SAFETY: a valid object, opened and not loaded; libbpf makes
            // the maps and relocates the programs, and loads none.
            let ret = unsafe { libbpf_rs::libbpf_sys::bpf_object__prepare(object.as_ptr()) };
            if ret < 0 {
                return Err(Error::bpf(
                    "making the maps",
                    libbpf_rs::Error::from_raw_os_error(-ret),
                    &take_libbpf_log(),
                ));
            }
            step("load: maps", start);
            // The copy's own duplicates of the maps' fds: a load that fails
            // here closes this object's, maybe while the copy still reuses
            // them (under load, a reused number gave the copy another
            // object, and its error hid this one's: issue 15).
            // SAFETY: the object is prepared and lives (in `open`) here.
            let owned = unsafe { map_fds(object.as_ptr()) }.map_err(|e| Error::Os {
                context: "sharing the maps".into(),
                source: e,
            })?;
            // None: no copy, or one that failed to open (its error follows).
            let _ = send_maps.send(owned);
            let start = std::time::Instant::now();
            let skel = open
                .load()
                .map_err(|e| Error::bpf("loading the BPF programs", e, &take_libbpf_log()))?;
            step(
                format!("load (verifier): {}", autoloaded(skel.object())),
                start,
            );
            Ok(skel)
        };
        let configure = |core: Option<&Path>| -> Result<Loaded> {
            // The exit hook of `first`, the largest program, is verified on
            // a thread of its own, from a copy of the object that shares
            // this one's maps, while this one verifies the rest: a copy
            // costs about a millisecond now that it relocates against the
            // cut kernel types.
            // The task programs are shared between the two so that both
            // end together (TASKS_BESIDE_EXIT_HOOK).
            let exit_hook = first.map(super::hooks::exit_hook);
            let mut apart: Vec<&str> = exit_hook.into_iter().collect();
            if tasks_first && exit_hook.is_some() {
                apart.extend(TASKS_BESIDE_EXIT_HOOK);
            }
            std::thread::scope(|scope| {
                // The first object's maps, for the copy (dropped unsent when
                // this load fails before it has them).
                let (send_maps, maps_made) = std::sync::mpsc::sync_channel(1);
                let copy = (!apart.is_empty()).then(|| {
                    let names = &apart;
                    scope.spawn(move || {
                        // Systrace's own syscalls, as the thread's that loads.
                        let _quiet = crate::trace::quiet::Quiet::enter();
                        // Opened while this object opens and makes the maps:
                        // a millisecond off the command's start (issue 15).
                        let open = open_copy(core, names)?;
                        let maps: Vec<(String, OwnedFd)> =
                            maps_made.recv().map_err(|_| Error::Os {
                                context: "sharing the maps".into(),
                                source: std::io::Error::other("the first load failed"),
                            })?;
                        load_copy_sharing(open, &borrow_all(&maps)).map(SendSkel)
                    })
                });
                let skel = load_first(core, &apart, send_maps);
                let copy = copy.map(|h| h.join().expect("the loading thread does not panic"));
                // This object's error first: the copy fails with it (a missing
                // privilege, a kernel that refuses the programs).
                let skel = skel?;
                let exit_copy = copy.transpose()?.map(|c| c.0);
                Ok((skel, exit_copy))
            })
        };
        let ((mut skel, exit_copy), core_btf) = match configure(core_btf.as_deref()) {
            Ok(loaded) => (loaded, core_btf),
            // Types cut wrong (or a file gone bad) must cost only time: load
            // against the kernel's own BTF, and cut them again next time.
            Err(_) if core_btf.is_some() => {
                core_btf::discard(core_btf.as_deref().expect("checked"));
                super::raw_targets::set(None);
                take_libbpf_log();
                (configure(None)?, None)
            }
            Err(e) => return Err(e),
        };

        let bss_data = skel
            .maps
            .bss_data
            .as_deref_mut()
            .expect("the object has .bss");
        // Nothing is attached yet: plain writes are safe.
        bss_data.capture_specs = *capture_specs;
        bss_data.syscall_nb_args = *nb_args;
        if let Some(data) = skel.maps.data_data.as_deref_mut() {
            data.sigreturn_nr = sigreturn_nr;
        }
        let bss = NonNull::from(bss_data);
        let traced_tgids = MapHandle::try_from(&skel.maps.traced_tgids)
            .map_err(|e| Error::bpf("opening the process filter map", e, ""))?;
        let dropped = MapHandle::try_from(&skel.maps.dropped)
            .map_err(|e| Error::bpf("opening the drop counters", e, ""))?;
        let counts = MapHandle::try_from(&skel.maps.counts)
            .map_err(|e| Error::bpf("opening the call counts", e, ""))?;
        let errnos = MapHandle::try_from(&skel.maps.errnos)
            .map_err(|e| Error::bpf("opening the errno counts", e, ""))?;
        let spare_counts = MapHandle::try_from(&skel.maps.spare_counts)
            .map_err(|e| Error::bpf("opening the spare call counts", e, ""))?;
        let spare_errnos = MapHandle::try_from(&skel.maps.spare_errnos)
            .map_err(|e| Error::bpf("opening the spare errno counts", e, ""))?;
        let filter_slots_map = MapHandle::try_from(&skel.maps.filter_slots)
            .map_err(|e| Error::bpf("opening the filter map", e, ""))?;
        let starts = MapHandle::try_from(&skel.maps.starts)
            .map_err(|e| Error::bpf("opening the counting start marks", e, ""))?;
        let programs = Programs {
            skel,
            core_btf,
            bss,
            links: [None, None],
            event_links: [BTreeSet::new(), BTreeSet::new()],
            reaper: super::reaper::Reaper::start()?,
            unsettled: false,
            probe_waits: 0,
            kinds: [None, None],
            main_kind: first,
            tasks_first,
            task_copy: None,
            exit_copy,
            phase_on: [false, false],
            mode: HookMode::Raw,
            switches: 0,
            handoff_gen: 0,
            fork_link: None,
            exit_link: None,
            signal_links: None,
            traced_tgids,
            dropped,
            counts,
            errnos,
            spare_counts,
            spare_errnos,
            filter_slots_map,
            starts,
            slots: filter::FilterSlots::new(),
            buffer_size,
            features,
        };
        programs.set_wakeup((buffer_size / 16) as u64, (buffer_size / 8) as u64);
        programs.set_filter_experiment();
        programs.set_count_experiment();
        Ok(programs)
    }

    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// The file of kernel types the programs were relocated against, or
    /// None (the kernel's own BTF).
    pub fn core_btf(&self) -> Option<&Path> {
        self.core_btf.as_deref()
    }

    /// What this load can do (the copies of the object share its .rodata,
    /// so this holds for every program loaded).
    pub fn features(&self) -> Features {
        self.features
    }

    /// An owned handle on the ring buffer map, for the consumer thread.
    pub fn events_map(&self) -> Result<MapHandle> {
        MapHandle::try_from(&self.skel.maps.events)
            .map_err(|e| Error::bpf("opening the ring buffer", e, ""))
    }

    /// An owned handle on the consumer's wake-up flag (`consumer_woken`),
    /// which the consumer thread maps and clears.
    pub fn woken_map(&self) -> Result<MapHandle> {
        MapHandle::try_from(&self.skel.maps.consumer_woken)
            .map_err(|e| Error::bpf("opening the consumer's wake-up flag", e, ""))
    }

    pub(super) fn bss(&self) -> *mut types::bss {
        self.bss.as_ptr()
    }

    pub(super) fn bitmap(&self, phase: Phase) -> &[AtomicU64] {
        // SAFETY: the .bss mmap outlives `self`; the programs read it
        // concurrently, so user space only ever touches it atomically.
        unsafe {
            let words = match phase {
                Phase::Enter => std::ptr::addr_of_mut!((*self.bss()).enabled_enter_syscalls),
                Phase::Exit => std::ptr::addr_of_mut!((*self.bss()).enabled_exit_syscalls),
            };
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        }
    }

    fn capture_bitmap(&self) -> &[AtomicU64] {
        // SAFETY: as in `bitmap`.
        unsafe {
            let words = std::ptr::addr_of_mut!((*self.bss()).capture_syscalls);
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        }
    }

    /// Corrects the args-per-number and capture tables while attached: a
    /// reader may see a mix of old and new entries for a moment, which only
    /// changes how many args or bytes one record carries.
    pub fn update_tables(
        &self,
        nb_args: &[u8; NR_SYSCALLS],
        capture_specs: &[types::systrace_capture_spec; NR_SYSCALLS],
    ) {
        // SAFETY: as in `bitmap`; byte-sized volatile stores into the mmap.
        unsafe {
            let bss = self.bss();
            let nb = std::ptr::addr_of_mut!((*bss).syscall_nb_args) as *mut u8;
            for (i, &n) in nb_args.iter().enumerate() {
                std::ptr::write_volatile(nb.add(i), n);
            }
            let specs =
                std::ptr::addr_of_mut!((*bss).capture_specs) as *mut types::systrace_capture_spec;
            for (i, spec) in capture_specs.iter().enumerate() {
                // A spec this load cannot read (the kernel's metadata gave
                // a syscall a kind the embedded table did not, after a load
                // of the kinds a session needed) keeps the one it had: the
                // programs would skip the new kind's arguments unseen.
                if crate::trace::capture::spec_kinds(spec) & !self.features.captures == 0 {
                    std::ptr::write_volatile(specs.add(i), *spec);
                }
            }
        }
    }

    pub fn set_capture(&self, nr: u32, on: bool) {
        set_bit(self.capture_bitmap(), nr, on);
    }

    pub fn set_capture_size(&self, size: u32, data_size: u32) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).capture_size) })
            .store(size, Ordering::SeqCst);
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).data_size) })
            .store(data_size, Ordering::SeqCst);
    }

    pub(super) fn bss_u32(&self, field: fn(*mut types::bss) -> *mut u32) -> &AtomicU32 {
        // SAFETY: as in `bitmap`.
        unsafe { &*(field(self.bss()) as *const AtomicU32) }
    }

    pub fn set_enabled(&self, phase: Phase, nr: u32, on: bool) {
        set_bit(self.bitmap(phase), nr, on);
    }

    pub fn is_enabled(&self, phase: Phase, nr: u32) -> bool {
        let (word, bit) = bit_of(nr);
        self.bitmap(phase)[word].load(Ordering::SeqCst) & bit != 0
    }

    /// The numbers whose bit is set, read back from the kernel's map.
    pub fn enabled(&self, phase: Phase) -> Vec<u32> {
        (0..NR_SYSCALLS as u32)
            .filter(|&nr| self.is_enabled(phase, nr))
            .collect()
    }

    /// Sets `tgid`'s systrace_tgid_flags in the process filter (as a
    /// registered process: its own root), or removes it.
    pub fn set_traced_tgid(&self, tgid: u32, flags: Option<u32>) -> Result<()> {
        let key = tgid.to_ne_bytes();
        let res = match flags {
            Some(flags) => {
                let value = types::systrace_tgid { flags, root: tgid };
                self.traced_tgids
                    .update(&key, pod_bytes(&value), MapFlags::ANY)
            }
            None => match self.traced_tgids.delete(&key) {
                // Gone already: a followed process that exited.
                Err(e) if e.kind() == libbpf_rs::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        res.map_err(|e| match e.kind() {
            libbpf_rs::ErrorKind::OutOfMemory | libbpf_rs::ErrorKind::TooBig => {
                Error::InvalidArgument(format!(
                    "too many processes traced at once (adding pid {tgid}): {e}"
                ))
            }
            _ => Error::bpf(
                &format!("updating the process filter for pid {tgid}"),
                e,
                "",
            ),
        })
    }

    pub fn set_trace_all_processes(&self, count: u32) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).trace_all_processes) })
            .store(count, Ordering::SeqCst);
    }

    pub fn set_clock_sessions(&self, count: u32) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).clock_sessions) })
            .store(count, Ordering::SeqCst);
    }

    pub fn clock_sessions(&self) -> u32 {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).clock_sessions) })
            .load(Ordering::SeqCst)
    }

    pub fn set_only_tgid(&self, tgid: Option<u32>) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).only_tgid) })
            .store(tgid.unwrap_or(0), Ordering::SeqCst);
    }

    /// Marks process `tgid`'s first thread (its start mark in task storage,
    /// set through a pidfd) as the one counted while first threads only
    /// are: a thread that takes the process's id by an exec later has no
    /// mark, as strace lost the process then. A process gone needs none.
    pub fn mark_first_thread(&self, tgid: u32) -> Result<()> {
        // SAFETY: pidfd_open takes a pid and flags; it returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, tgid as libc::pid_t, 0) };
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ESRCH) {
                return Ok(());
            }
            return Err(Error::os(format!("opening a pidfd of pid {tgid}"), err));
        }
        // SAFETY: a new fd, owned here from now on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        let key = fd.as_raw_fd().to_ne_bytes();
        let mut value = types::start {
            flags: types::systrace_start_flags::SYSTRACE_START_FIRST_THREAD,
            ..Default::default()
        };
        let mut res = self
            .starts
            .update(&key, pod_bytes(&value), MapFlags::NO_EXIST);
        if matches!(&res, Err(e) if e.kind() == libbpf_rs::ErrorKind::AlreadyExists) {
            // A mark an earlier counting session of this load left (its
            // start of a call in flight kept): the flag added to it.
            if let Some(old) = self.starts.lookup(&key, MapFlags::ANY).ok().flatten() {
                if let Some(old) = read_pod::<types::start>(&old) {
                    value = old;
                    value.flags.0 |= types::systrace_start_flags::SYSTRACE_START_FIRST_THREAD.0;
                }
            }
            res = self.starts.update(&key, pod_bytes(&value), MapFlags::ANY);
        }
        match res {
            // Exited since the pidfd was opened.
            Err(e) if e.kind() == libbpf_rs::ErrorKind::NotFound => Ok(()),
            res => res
                .map_err(|e| Error::bpf(&format!("marking the first thread of pid {tgid}"), e, "")),
        }
    }

    /// Count only each process's first thread's calls (see
    /// `Registration::count_first_thread`).
    pub fn set_count_first_thread(&self, on: bool) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).count_first_thread) })
            .store(u32::from(on), Ordering::SeqCst);
    }

    /// Nanoseconds taken off each counted call's time and wall time, down
    /// to 0, by count_by_root loads (the command's -O, as strace's).
    pub fn set_count_overhead(&self, ns: u64) {
        // SAFETY: as in `bitmap`: the field lives as long as the skeleton,
        // and the programs read it with plain loads.
        unsafe {
            (*(std::ptr::addr_of_mut!((*self.bss()).count_overhead_ns) as *const AtomicU64))
                .store(ns, Ordering::SeqCst)
        };
    }

    /// Let each traced process go at its exec (see `exit_detaches`).
    pub fn set_detach_on_execve(&self, on: bool) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).detach_on_execve) })
            .store(u32::from(on), Ordering::SeqCst);
    }

    pub fn set_ignore_tid(&self, tid: u32) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).ignore_tid) })
            .store(tid, Ordering::SeqCst);
    }

    /// Wake the consumer once about `bytes` wait: the records with user
    /// memory query the ring buffer at each record; the plain syscall
    /// records only every `wakeup_records` records of a CPU, about `bytes`
    /// over all CPUs. Past `behind` bytes waiting, every record wakes it.
    fn set_wakeup(&self, bytes: u64, behind: u64) {
        let data = self
            .skel
            .maps
            .data_data
            .as_deref()
            .expect("the object has .data");
        let cpus = libbpf_rs::num_possible_cpus().unwrap_or(1).max(1) as u64;
        let records = (bytes / cpus / PLAIN_RECORD_MAX).clamp(1, u64::from(u32::MAX));
        // SAFETY: as in `bitmap`, .data is an mmap shared with the programs.
        unsafe {
            (*(std::ptr::addr_of!(data.wakeup_bytes) as *const AtomicU64))
                .store(bytes, Ordering::SeqCst);
            (*(std::ptr::addr_of!(data.wakeup_records) as *const AtomicU32))
                .store(records as u32, Ordering::SeqCst);
            (*(std::ptr::addr_of!(data.behind_bytes) as *const AtomicU64))
                .store(behind, Ordering::SeqCst);
        }
    }

    /// Records lost to a full ring buffer so far, summed over the kinds
    /// that `wanted(tgid, root, kind, phase, nr)` accepts (for a signal,
    /// `nr` is the signal; for a thread's exit, 0).
    pub fn dropped(&self, wanted: impl Fn(u32, u32, EventKind, Phase, u32) -> bool) -> u64 {
        let mut total = 0;
        for key in self.dropped.keys() {
            let Some(k) = read_pod::<types::systrace_drop_key>(&key) else {
                continue;
            };
            let (kind, phase) = match k.phase as u8 {
                PHASE_ENTER => (EventKind::Syscall, Phase::Enter),
                PHASE_EXIT => (EventKind::Syscall, Phase::Exit),
                PHASE_SIGNAL => (EventKind::Signal, Phase::Enter),
                PHASE_TASK_EXIT => (EventKind::TaskExit, Phase::Enter),
                _ => continue,
            };
            if !wanted(k.tgid, k.root, kind, phase, k.nr) {
                continue;
            }
            if let Ok(Some(value)) = self.dropped.lookup(&key, MapFlags::ANY) {
                total += read_pod::<u64>(&value).unwrap_or(0);
            }
        }
        total
    }

    /// Counts syscall `nr`'s calls in the kernel, or stops. Counting that
    /// begins stamps the time first (the programs' `counted_since`): a
    /// thread's start left before it is an uncounted call's, not the start
    /// of the call its next counted exit ends.
    pub fn set_counted(&self, nr: u32, on: bool) {
        // SAFETY: as in `bitmap`.
        let words = unsafe {
            let words = std::ptr::addr_of_mut!((*self.bss()).counted_syscalls);
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        };
        let (word, bit) = bit_of(nr);
        if on && words[word].load(Ordering::SeqCst) & bit == 0 {
            // SAFETY: as in `bitmap`.
            let since = unsafe {
                let table = std::ptr::addr_of_mut!((*self.bss()).counted_since);
                &*(table as *const [AtomicU64; NR_SYSCALLS])
            };
            since[nr as usize].store(crate::trace::queue::monotonic_ns(), Ordering::SeqCst);
        }
        set_bit(words, nr, on);
    }

    /// SYSTRACE_COUNT_EXPERIMENT: switches for measuring what each part of
    /// counting costs (bench/count_cost.py; bpf/count.bpf.h).
    fn set_count_experiment(&self) {
        let bits = std::env::var("SYSTRACE_COUNT_EXPERIMENT")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        // SAFETY: as in `bitmap`; set before any program is attached.
        unsafe { std::ptr::addr_of_mut!((*self.bss()).count_experiment).write_volatile(bits) };
    }

    /// The counted calls so far, summed over the CPUs and the spare
    /// entries, of the kinds that `wanted(tgid, root, nr)` accepts: (key,
    /// counts) each.
    pub fn counts(
        &self,
        wanted: impl Fn(u32, u32, u32) -> bool,
    ) -> Vec<(types::systrace_count_key, types::systrace_count)> {
        fn add(total: &mut types::systrace_count, c: &types::systrace_count) {
            total.calls += c.calls;
            total.errors += c.errors;
            total.total_ns += c.total_ns;
            total.system_ns += c.system_ns;
            for (t, h) in total.hist.iter_mut().zip(c.hist) {
                *t += h;
            }
        }
        let mut out = Vec::new();
        let spare = self.spare(
            &self.spare_counts,
            &wanted,
            read_pod::<types::systrace_count>,
        );
        let mut spare: HashMap<Vec<u8>, _> = spare.into_iter().collect();
        for key in self.counts.keys() {
            let Some(k) = read_pod::<types::systrace_count_key>(&key) else {
                continue;
            };
            if !wanted(k.tgid, k.root, k.nr) {
                continue;
            }
            let Ok(Some(per_cpu)) = self.counts.lookup_percpu(&key, MapFlags::ANY) else {
                continue;
            };
            let mut total = types::systrace_count::default();
            for value in per_cpu {
                if let Some(c) = read_pod::<types::systrace_count>(&value) {
                    add(&mut total, &c);
                }
            }
            if let Some((_, c)) = spare.remove(&key) {
                add(&mut total, &c);
            }
            out.push((k, total));
        }
        out.extend(spare.into_values());
        out
    }

    /// Failed counted calls so far by errno, summed over the CPUs and the
    /// spare entries: (key with its err, count).
    pub fn errnos(
        &self,
        wanted: impl Fn(u32, u32, u32) -> bool,
    ) -> Vec<(types::systrace_count_key, u64)> {
        let mut out = Vec::new();
        let spare = self.spare(&self.spare_errnos, &wanted, read_pod::<u64>);
        let mut spare: HashMap<Vec<u8>, _> = spare.into_iter().collect();
        for key in self.errnos.keys() {
            let Some(k) = read_pod::<types::systrace_count_key>(&key) else {
                continue;
            };
            if !wanted(k.tgid, k.root, k.nr) {
                continue;
            }
            if let Ok(Some(per_cpu)) = self.errnos.lookup_percpu(&key, MapFlags::ANY) {
                let n: u64 = per_cpu.iter().filter_map(|v| read_pod::<u64>(v)).sum();
                let more = spare.remove(&key).map_or(0, |(_, n)| n);
                out.push((k, n + more));
            }
        }
        out.extend(spare.into_values());
        out
    }

    /// The wanted entries of a spare map: (raw key, (key, value)) each.
    fn spare<T>(
        &self,
        map: &MapHandle,
        wanted: &impl Fn(u32, u32, u32) -> bool,
        read: impl Fn(&[u8]) -> Option<T>,
    ) -> Vec<(Vec<u8>, (types::systrace_count_key, T))> {
        let mut out = Vec::new();
        for key in map.keys() {
            let Some(k) = read_pod::<types::systrace_count_key>(&key) else {
                continue;
            };
            if !wanted(k.tgid, k.root, k.nr) {
                continue;
            }
            if let Some(v) = map
                .lookup(&key, MapFlags::ANY)
                .ok()
                .flatten()
                .and_then(|v| read(&v))
            {
                out.push((key, (k, v)));
            }
        }
        out
    }

    /// Calls the counting maps had no room for.
    pub fn counts_unattributed(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).counts_unattributed) })
            .load(Ordering::SeqCst)
    }

    /// Forgets every count of lost records and of counted calls (when no
    /// session is open, so that the maps do not fill with the keys of
    /// long-gone processes).
    pub fn clear_dropped(&self) {
        for map in [
            &self.dropped,
            &self.counts,
            &self.errnos,
            &self.spare_counts,
            &self.spare_errnos,
        ] {
            let keys: Vec<Vec<u8>> = map.keys().collect();
            for key in keys {
                let _ = map.delete(&key);
            }
        }
    }

    /// Lost records the programs could not attribute (the drops map was full).
    pub fn drops_unattributed(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).drops_unattributed) })
            .load(Ordering::SeqCst)
    }

    /// Children of followed processes that could not be followed
    /// (traced_tgids was full).
    pub fn untraced_forks(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).untraced_forks) })
            .load(Ordering::SeqCst)
    }

    /// Task storage threads under a seccomp filter could not get (no
    /// memory): an enter not marked for its exit (a failed call may show a
    /// second enter, made at its exit), or a refused call's pending_call
    /// (its exit shows the addresses of what its enter would have read).
    pub fn entered_unmarked(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).entered_unmarked) })
            .load(Ordering::SeqCst)
    }

    pub(super) fn bss_u64(&self, field: fn(*mut types::bss) -> *mut u64) -> &AtomicU64 {
        // SAFETY: as in `bitmap`.
        unsafe { &*(field(self.bss()) as *const AtomicU64) }
    }

    /// Tells the programs which process is systrace's own and where its
    /// quiet slots are (see bpf/systrace.h).
    pub fn set_self(&self, tgid: u32, quiet_addr: u64) {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).quiet_addr) })
            .store(quiet_addr, Ordering::SeqCst);
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).self_tgid) })
            .store(tgid, Ordering::SeqCst);
    }

    /// The processes found by following forks whose registered ancestor
    /// `root` says: their entries in the process filter.
    pub fn discovered(&self, root: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut out = Vec::new();
        for key in self.traced_tgids.keys() {
            let Some(tgid) = read_pod::<u32>(&key) else {
                continue;
            };
            if let Ok(Some(value)) = self.traced_tgids.lookup(&key, MapFlags::ANY) {
                if let Some(v) = read_pod::<types::systrace_tgid>(&value) {
                    if v.flags & TGID_DISCOVERED != 0 && root(v.root) {
                        out.push(tgid);
                    }
                }
            }
        }
        out
    }
}

/// This boot's file of the kernel types our CO-RE relocations name
/// (`core_btf`), cut now if there is none yet; None where it cannot be kept
/// (libbpf then reads the kernel's whole BTF, as it always did).
fn core_types() -> Option<PathBuf> {
    let path = core_btf::path()?;
    let start = std::time::Instant::now();
    if core_btf::usable(&path) {
        step("kernel types: this boot's file", start);
        return Some(path);
    }
    // Our own types, as the programs declare them: the object's BTF.
    let open = open_object(None, "open the BPF object to cut the kernel types").ok()?;
    let object = libbpf_rs::AsRawLibbpf::as_libbpf_object(open.open_object());
    // SAFETY: the object lives until `open` is dropped, after `local`.
    let local = libbpf_rs::btf::Btf::from_bpf_object(unsafe { object.as_ref() }).ok()??;
    let made = core_btf::make(&path, &local);
    step("kernel types: cut from the kernel's BTF", start);
    made.ok().map(|()| path)
}

/// A loaded copy of the object handed from the thread that loaded it.
struct SendSkel(SystraceSkel<'static>);
// SAFETY: libbpf's objects are not tied to a thread; the copy is used by
// one thread at a time (moved out of the loading thread once it is done).
unsafe impl Send for SendSkel {}

/// The name of each map of a prepared object, and a duplicate of its fd.
///
/// # Safety
/// `object` must be a valid object whose maps exist.
unsafe fn map_fds(
    object: *const libbpf_rs::libbpf_sys::bpf_object,
) -> std::io::Result<Vec<(String, OwnedFd)>> {
    use libbpf_rs::libbpf_sys::{bpf_map__fd, bpf_map__name, bpf_object__next_map};
    let mut out = Vec::new();
    let mut map = bpf_object__next_map(object, std::ptr::null());
    while !map.is_null() {
        let name = std::ffi::CStr::from_ptr(bpf_map__name(map));
        // The object's own fd, open while it lives: borrowed to duplicate.
        let fd = BorrowedFd::borrow_raw(bpf_map__fd(map)).try_clone_to_owned()?;
        out.push((name.to_string_lossy().into_owned(), fd));
        map = bpf_object__next_map(object, map);
    }
    Ok(out)
}

/// Opens a copy of the object to load the programs `keep` from
/// ([`load_copy_sharing`]).
pub(super) fn open_copy(core: Option<&Path>, keep: &[&str]) -> Result<OpenSystraceSkel<'static>> {
    let mut open = open_object(core, "open a copy of the BPF object")?;
    for mut prog in open.open_object_mut().progs_mut() {
        let on = keep.iter().any(|p| prog.name() == *p);
        prog.set_autoload(on);
    }
    Ok(open)
}

/// Loads the programs of an opened copy ([`open_copy`]) with the maps
/// `maps` (another copy's, by name): the verifier checks them now.
pub(super) fn load_copy_sharing(
    mut open: OpenSystraceSkel<'static>,
    maps: &[(String, BorrowedFd<'_>)],
) -> Result<SystraceSkel<'static>> {
    for mut map in open.open_object_mut().maps_mut() {
        let name = map.name().to_string_lossy();
        if let Some(&(_, fd)) = maps.iter().find(|(n, _)| *n == name) {
            // libbpf takes a duplicate of it.
            map.reuse_fd(fd)
                .map_err(|e| Error::bpf("sharing the maps", e, &take_libbpf_log()))?;
        }
    }
    let start = std::time::Instant::now();
    let skel = open
        .load()
        .map_err(|e| Error::bpf("loading the BPF programs", e, &take_libbpf_log()))?;
    step(
        format!("load a copy (verifier): {}", autoloaded(skel.object())),
        start,
    );
    Ok(skel)
}

/// Borrows each fd of `maps`, with its name.
fn borrow_all(maps: &[(String, OwnedFd)]) -> Vec<(String, BorrowedFd<'_>)> {
    maps.iter()
        .map(|(name, fd)| (name.clone(), fd.as_fd()))
        .collect()
}

/// Opens a copy of the object, its CO-RE relocations against the kernel
/// types in `core` (None: the kernel's own BTF).
pub(super) fn open_object(core: Option<&Path>, what: &str) -> Result<OpenSystraceSkel<'static>> {
    // The skeleton borrows its object storage for its whole life
    // (libbpf-rs #1017). The programs live as long as the process (or
    // until a reload), so the storage is leaked: a few hundred bytes.
    let storage: &'static mut MaybeUninit<libbpf_rs::OpenObject> =
        Box::leak(Box::new(MaybeUninit::uninit()));
    let start = std::time::Instant::now();
    let mut builder = SystraceSkelBuilder::default();
    if let Some(core) = core {
        builder
            .object_builder_mut()
            .btf_custom_path(core)
            .map_err(|e| Error::bpf("naming the kernel types' file", e, ""))?;
    }
    let open = builder
        .open(storage)
        .map_err(|e| Error::bpf("opening the BPF object", e, &take_libbpf_log()))?;
    step(what, start);
    Ok(open)
}

/// Attaches a tracepoint program (`what`: its tracepoint, for the error).
fn attach_tp(prog: &libbpf_rs::ProgramMut<'_>, what: &str) -> Result<Link> {
    let start = std::time::Instant::now();
    let link = prog
        .attach()
        .map_err(|e| Error::bpf(&format!("attaching to {what}"), e, &take_libbpf_log()))?;
    step(format!("attach {what}"), start);
    Ok(link)
}

/// A plain C value's bytes, as a map takes them.
fn pod_bytes<T: Copy>(value: &T) -> &[u8] {
    // SAFETY: T is plain data generated from C, viewed as its bytes for as
    // long as it is borrowed.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
    }
}

/// A plain C value read from map bytes (None when the size is wrong).
fn read_pod<T: Copy>(bytes: &[u8]) -> Option<T> {
    (bytes.len() == std::mem::size_of::<T>())
        // SAFETY: the length matches, T is plain data generated from C, and
        // read_unaligned has no alignment requirement.
        .then(|| unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}
