//! The kernel types our programs' CO-RE relocations name, cut out of the
//! kernel's BTF once per boot and kept in a small file that libbpf relocates
//! against (`btf_custom_path`).
//!
//! Without it, every load had libbpf parse all of `/sys/kernel/btf/vmlinux`
//! (5.5 MB here: about 5 ms) and search it for each relocated type by name
//! (about 6 ms): a third of the command's load (issue 15: start-up). The
//! file holds, for each struct or union of ours that the kernel also has
//! (`bpf/kernel.h` declares only the fields we read), the kernel's type with
//! just those members, at the kernel's offsets, and the kernel's size. It
//! is made from the running kernel's BTF, so it is valid for this boot
//! only: its name carries the boot id (and the programs' build), and it
//! lives in `/run` (a tmpfs cleared at boot). A load that fails against it
//! loads again against the kernel's own BTF and removes it.
//!
//! The file also names the kernel's BTF ids of the raw hooks' targets
//! ([`raw_hook_targets`]), which libbpf would otherwise find by parsing the
//! kernel's whole BTF again in each object that loads a raw hook
//! (`kernel::raw_targets`).
use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use libbpf_rs::btf::types::{
    Array, Composite, Enum, Enum64, Int, IntEncoding, MemberAttr, Typedef,
};
use libbpf_rs::btf::{Btf, BtfKind, BtfType, HasSize, TypeId};
use libbpf_rs::libbpf_sys;

/// Where the files are kept: root's, cleared at boot.
const DIR: &str = "/run/systrace";
/// `SYSTRACE_CORE_BTF=kernel` relocates against the kernel's own BTF, as
/// libbpf does by default (to compare, or to rule this file out).
pub const ENV: &str = "SYSTRACE_CORE_BTF";
/// The programs' build, so that a new build does not use another's file.
const BUILD: &str = env!("SYSTRACE_BPF_OBJECT_HASH");
/// What the file holds, so that a file of an earlier systrace (the same
/// programs, no targets) is not taken for this one's.
const FORMAT: &str = "2";
/// The enum of the file whose values are the kernel's BTF ids of the raw
/// hooks' targets, one per name in [`RAW_HOOK_TARGETS`].
const TARGETS_ENUM: &str = "systrace_raw_hook_targets";
/// The kernel's types of the raw hooks' tracepoints (libbpf's
/// `btf_trace_<name>` for a `tp_btf/<name>` program): enter, then exit.
pub const RAW_HOOK_TARGETS: [&str; 2] = ["btf_trace_sys_enter", "btf_trace_sys_exit"];

/// This boot's file, if it may be used: `None` when the environment turns
/// it off or the directory cannot be trusted.
pub fn path() -> Option<PathBuf> {
    if std::env::var_os(ENV).is_some_and(|v| v == "kernel") {
        return None;
    }
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let boot: String = boot
        .trim()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    Some(Path::new(DIR).join(format!("core-{BUILD}.{FORMAT}-{boot}.btf")))
}

/// Whether `path` exists and only we can have written it (owned by us, in a
/// directory owned by us, neither writable by others).
pub fn usable(path: &Path) -> bool {
    path.parent().is_some_and(owned) && owned(path)
}

/// Owned by us, not writable by others, not a symlink.
fn owned(p: &Path) -> bool {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    fs::symlink_metadata(p)
        .is_ok_and(|m| m.uid() == euid && m.mode() & 0o022 == 0 && !m.file_type().is_symlink())
}

/// The kernel's BTF ids of [`RAW_HOOK_TARGETS`] as the file at `path`
/// names them (None if it names none: a file cut without them).
pub fn raw_hook_targets(path: &Path) -> Option<[u32; 2]> {
    let btf = Btf::from_path(path).ok()?;
    let e: Enum<'_> = btf.type_by_name(TARGETS_ENUM)?;
    let mut ids = [0u32; 2];
    for (id, name) in ids.iter_mut().zip(RAW_HOOK_TARGETS) {
        let v = e.iter().find(|v| v.name == Some(OsStr::new(name)))?;
        *id = u32::try_from(v.value).ok().filter(|&id| id != 0)?;
    }
    Some(ids)
}

/// The kernel's BTF ids of [`RAW_HOOK_TARGETS`], looked up in `kernel`.
pub fn find_raw_hook_targets(kernel: &Btf<'_>) -> Option<[u32; 2]> {
    let mut ids = [0u32; 2];
    for (id, name) in ids.iter_mut().zip(RAW_HOOK_TARGETS) {
        let t: Typedef<'_> = kernel.type_by_name(name)?;
        *id = u32::from(t.type_id());
    }
    Some(ids)
}

/// Removes a file that a load could not use.
pub fn discard(path: &Path) {
    let _ = fs::remove_file(path);
}

/// Makes the file at `path` from the kernel's BTF and `local`, the BTF of
/// our object (its types as the programs declare them). Files of other
/// boots are removed.
pub fn make(path: &Path, local: &Btf<'_>) -> Result<(), String> {
    let kernel = Btf::from_vmlinux().map_err(|e| format!("reading the kernel's BTF: {e}"))?;
    let bytes = cut(&kernel, local)?;
    let dir = path.parent().ok_or("no directory")?;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if !owned(dir) {
        return Err(format!("{} is not ours", dir.display()));
    }
    // Files of earlier boots (where /run outlives a boot); another build's
    // file of this boot is its to use.
    let boot_suffix = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('-'))
        .map(|(_, boot)| format!("-{boot}"));
    if let (Ok(entries), Some(boot_suffix)) = (fs::read_dir(dir), boot_suffix) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("core-") && !name.ends_with(&boot_suffix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    // Written whole under another name, then renamed: a reader sees the
    // whole file or none.
    let tmp = dir.join(format!(".core-{}.tmp", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(format!("writing {}: {e}", path.display()));
    }
    Ok(())
}

/// The essential name of a type (a CO-RE "flavor" suffix, `___x`, dropped).
fn essential(name: &OsStr) -> &[u8] {
    let b = name.as_encoded_bytes();
    match b.windows(3).position(|w| w == b"___") {
        Some(i) => &b[..i],
        None => b,
    }
}

/// The BTF of the kernel's types that `local` names, with the members it
/// declares: the raw bytes of a BTF file.
fn cut(kernel: &Btf<'_>, local: &Btf<'_>) -> Result<Vec<u8>, String> {
    let mut wanted: HashMap<Vec<u8>, Vec<TypeId>> = HashMap::new();
    for c in local.type_by_kind::<Composite<'_>>() {
        if let Some(name) = c.name().filter(|n| !n.is_empty()) {
            wanted
                .entry(essential(name).to_vec())
                .or_default()
                .push(c.type_id());
        }
    }
    let mut out = Writer::new()?;
    // The pointer size is read off the integer types of a BTF.
    out.int(Some(OsStr::new("long unsigned int")), 8, 0)?;
    for k in kernel.type_by_kind::<Composite<'_>>() {
        let Some(name) = k.name().filter(|n| !n.is_empty()) else {
            continue;
        };
        for &l in wanted.get(essential(name)).into_iter().flatten() {
            out.emit(kernel, k.type_id(), local, Some(l))?;
        }
    }
    if let Some(ids) = find_raw_hook_targets(kernel) {
        out.raw_hook_targets(ids)?;
    }
    out.bytes()
}

/// A new BTF, written through libbpf's writer.
struct Writer {
    btf: *mut libbpf_sys::btf,
    /// (kernel type, local type) -> the id written for it.
    done: HashMap<(u32, u32), i32>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        // SAFETY: made by btf__new_empty, freed once.
        unsafe { libbpf_sys::btf__free(self.btf) };
    }
}

fn cstr(name: Option<&OsStr>) -> CString {
    CString::new(name.map(OsStr::as_encoded_bytes).unwrap_or_default()).unwrap_or_default()
}

fn id(ret: i32, what: &str) -> Result<i32, String> {
    if ret < 0 {
        Err(format!("writing {what}: error {ret}"))
    } else {
        Ok(ret)
    }
}

impl Writer {
    fn new() -> Result<Self, String> {
        // SAFETY: no arguments; checked for NULL.
        let btf = unsafe { libbpf_sys::btf__new_empty() };
        if btf.is_null() {
            return Err("libbpf could not make a BTF".into());
        }
        Ok(Self {
            btf,
            done: HashMap::new(),
        })
    }

    fn int(&mut self, name: Option<&OsStr>, size: usize, encoding: i32) -> Result<i32, String> {
        let n = cstr(name);
        // SAFETY: a valid btf and a NUL-terminated name.
        id(
            unsafe { libbpf_sys::btf__add_int(self.btf, n.as_ptr(), size as u64, encoding) },
            "an int",
        )
    }

    /// Writes the kernel's type `k` as seen through the local type `l` (a
    /// composite keeps only the members `l` has); returns its new id.
    /// Typedefs and modifiers are skipped, as CO-RE skips them; a pointer
    /// points to void (CO-RE never follows one: each dereference is a
    /// relocation of its own, against the pointee's name).
    fn emit(
        &mut self,
        kernel: &Btf<'_>,
        k: TypeId,
        local: &Btf<'_>,
        l: Option<TypeId>,
    ) -> Result<i32, String> {
        let kt = kernel
            .type_by_id::<BtfType<'_>>(k)
            .ok_or("a type id out of range")?
            .skip_mods_and_typedefs();
        let lt = l
            .and_then(|l| local.type_by_id::<BtfType<'_>>(l))
            .map(|t| t.skip_mods_and_typedefs());
        let key = (
            u32::from(kt.type_id()),
            lt.map_or(0, |t| u32::from(t.type_id())),
        );
        if let Some(&done) = self.done.get(&key) {
            return Ok(done);
        }
        let new = match kt.kind() {
            BtfKind::Void => 0,
            BtfKind::Int => {
                let int = Int::try_from(kt).map_err(|_| "an int")?;
                let encoding = match int.encoding {
                    IntEncoding::None => 0,
                    IntEncoding::Signed => 1,
                    IntEncoding::Char => 2,
                    IntEncoding::Bool => 4,
                };
                self.int(kt.name(), int.size(), encoding)?
            }
            BtfKind::Ptr | BtfKind::FuncProto => {
                // SAFETY: a valid btf; 0 is void.
                id(
                    unsafe { libbpf_sys::btf__add_ptr(self.btf, 0) },
                    "a pointer",
                )?
            }
            BtfKind::Array => {
                let a = Array::try_from(kt).map_err(|_| "an array")?;
                let local_elem = lt.and_then(|t| Array::try_from(t).ok()).map(|la| la.ty());
                let elem = self.emit(kernel, a.ty(), local, local_elem)?;
                let index = match self.done.get(&(u32::MAX, 0)) {
                    Some(&index) => index,
                    None => {
                        let index = self.int(Some(OsStr::new("int")), 4, 1)?;
                        self.done.insert((u32::MAX, 0), index);
                        index
                    }
                };
                // SAFETY: a valid btf and ids it holds.
                id(
                    unsafe {
                        libbpf_sys::btf__add_array(self.btf, index, elem, a.capacity() as u32)
                    },
                    "an array",
                )?
            }
            BtfKind::Enum => {
                let e = Enum::try_from(kt).map_err(|_| "an enum")?;
                let n = cstr(kt.name());
                // SAFETY: a valid btf; the values follow their enum at once.
                let new = id(
                    unsafe { libbpf_sys::btf__add_enum(self.btf, n.as_ptr(), e.size() as u32) },
                    "an enum",
                )?;
                for v in e.iter() {
                    let vn = cstr(v.name);
                    id(
                        unsafe { libbpf_sys::btf__add_enum_value(self.btf, vn.as_ptr(), v.value) },
                        "an enum value",
                    )?;
                }
                new
            }
            BtfKind::Enum64 => {
                let e = Enum64::try_from(kt).map_err(|_| "an enum")?;
                let n = cstr(kt.name());
                // SAFETY: as for Enum.
                let new = id(
                    unsafe {
                        libbpf_sys::btf__add_enum64(
                            self.btf,
                            n.as_ptr(),
                            e.size() as u32,
                            e.is_signed(),
                        )
                    },
                    "an enum",
                )?;
                for v in e.iter() {
                    let vn = cstr(v.name);
                    id(
                        unsafe {
                            libbpf_sys::btf__add_enum64_value(self.btf, vn.as_ptr(), v.value as u64)
                        },
                        "an enum value",
                    )?;
                }
                new
            }
            BtfKind::Struct | BtfKind::Union => self.composite(kernel, kt, local, lt)?,
            // Nothing of ours reads such a member: it is written as void.
            _ => 0,
        };
        self.done.insert(key, new);
        Ok(new)
    }

    /// A struct or union with the members of `lt` (none if it is not a
    /// struct or union), each at the kernel's offset; members inside the
    /// kernel's anonymous structs and unions are lifted to this one, at
    /// their offsets (CO-RE looks through anonymous members).
    fn composite(
        &mut self,
        kernel: &Btf<'_>,
        kt: BtfType<'_>,
        local: &Btf<'_>,
        lt: Option<BtfType<'_>>,
    ) -> Result<i32, String> {
        let kc = Composite::try_from(kt).map_err(|_| "a struct")?;
        let mut wanted: HashMap<Vec<u8>, Option<TypeId>> = HashMap::new();
        if let Some(lc) = lt.and_then(|t| Composite::try_from(t).ok()) {
            local_members(local, &lc, &mut wanted);
        }
        let mut found = Vec::new();
        kernel_members(kernel, &kc, 0, &mut |name, ty, bit_offset, bit_size| {
            if wanted.contains_key(name.as_encoded_bytes()) {
                found.push((name.to_owned(), ty, bit_offset, bit_size));
            }
        });
        let mut fields = Vec::new();
        for (name, ty, bit_offset, bit_size) in found {
            let l = wanted.get(name.as_encoded_bytes()).copied().flatten();
            let new = self.emit(kernel, ty, local, l)?;
            fields.push((name, new, bit_offset, bit_size));
        }
        let n = cstr(kt.name());
        let size = kc.size() as u32;
        // SAFETY: a valid btf; the fields follow their struct at once.
        let new = id(
            unsafe {
                if kt.kind() == BtfKind::Struct {
                    libbpf_sys::btf__add_struct(self.btf, n.as_ptr(), size)
                } else {
                    libbpf_sys::btf__add_union(self.btf, n.as_ptr(), size)
                }
            },
            "a struct",
        )?;
        for (name, ty, bit_offset, bit_size) in fields {
            let fname = cstr(Some(&name));
            id(
                unsafe {
                    libbpf_sys::btf__add_field(self.btf, fname.as_ptr(), ty, bit_offset, bit_size)
                },
                "a member",
            )?;
        }
        Ok(new)
    }

    /// The enum [`TARGETS_ENUM`]: no relocation of ours names it.
    fn raw_hook_targets(&mut self, ids: [u32; 2]) -> Result<(), String> {
        let n = cstr(Some(OsStr::new(TARGETS_ENUM)));
        // SAFETY: a valid btf; the values follow their enum at once.
        id(
            unsafe { libbpf_sys::btf__add_enum(self.btf, n.as_ptr(), 4) },
            "an enum",
        )?;
        for (name, value) in RAW_HOOK_TARGETS.into_iter().zip(ids) {
            let vn = cstr(Some(OsStr::new(name)));
            id(
                unsafe { libbpf_sys::btf__add_enum_value(self.btf, vn.as_ptr(), i64::from(value)) },
                "an enum value",
            )?;
        }
        Ok(())
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        let mut size = 0u32;
        // SAFETY: a valid btf; the data lives as long as it, and is copied.
        let data = unsafe { libbpf_sys::btf__raw_data(self.btf, &mut size) };
        if data.is_null() {
            return Err("libbpf could not write the BTF".into());
        }
        Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size as usize) }.to_vec())
    }
}

/// The named members of a local composite (those of its anonymous members
/// too), with their types.
fn local_members(local: &Btf<'_>, c: &Composite<'_>, out: &mut HashMap<Vec<u8>, Option<TypeId>>) {
    for m in c.iter() {
        match m.name.filter(|n| !n.is_empty()) {
            Some(name) => {
                out.insert(name.as_encoded_bytes().to_vec(), Some(m.ty));
            }
            None => {
                if let Some(inner) = local
                    .type_by_id::<BtfType<'_>>(m.ty)
                    .and_then(|t| Composite::try_from(t.skip_mods_and_typedefs()).ok())
                {
                    local_members(local, &inner, out);
                }
            }
        }
    }
}

/// Calls `f(name, type, bit offset, bitfield size)` for each named member
/// of a kernel composite, those of its anonymous members included, with
/// offsets from the start of the outermost one.
fn kernel_members(
    kernel: &Btf<'_>,
    c: &Composite<'_>,
    base: u32,
    f: &mut dyn FnMut(&OsStr, TypeId, u32, u32),
) {
    for m in c.iter() {
        let (offset, size) = match m.attr {
            MemberAttr::Normal { offset } => (offset, 0),
            MemberAttr::BitField { size, offset } => (offset, u32::from(size)),
        };
        match m.name.filter(|n| !n.is_empty()) {
            Some(name) => f(name, m.ty, base + offset, size),
            None => {
                if let Some(inner) = kernel
                    .type_by_id::<BtfType<'_>>(m.ty)
                    .and_then(|t| Composite::try_from(t.skip_mods_and_typedefs()).ok())
                {
                    kernel_members(kernel, &inner, base + offset, f);
                }
            }
        }
    }
}
