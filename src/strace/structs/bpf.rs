//! bpf(2)'s union bpf_attr for the commands that load and test-run
//! programs, load BTF, create, look up and list maps, programs, BTF objects
//! and links, pin objects, open raw tracepoints and attach programs to
//! cgroups and links, as strace prints them (its bpf.c): each command's fields up to the size
//! the call gives (fields a shorter attr lacks are not printed), then `...`
//! when bytes past the fields strace knows are not zero. The memory an
//! attr points to (a license, a log, a path, BTF) comes read at enter
//! ([`AttrString`]). The others (BPF_PROG_QUERY, BPF_TASK_FD_QUERY, the
//! batches, a BPF_LINK_CREATE of an iterator or of kprobe_multi, whose
//! arrays are not read) print as their address: `None` here.
use std::fmt::Write;

use super::ifreq::push_name;
use super::netlink::ifindex_text;
use super::read;
use crate::strace::flags::{self, Xlat};
use crate::strace::quote::{push_quoted, quote_limited, Ellipsis, HexStyle};
use crate::strace::{AttrString, StraceOptions};

/// What the programs read of the attr (bpf/ and trace::capture): enough
/// for every command decoded here, and the bytes past them that say `...`.
const BPF_ATTR_HEAD: usize = crate::trace::capture::sizes::BPF_ATTR as usize;

// The commands decoded (enum bpf_cmd).
const BPF_MAP_CREATE: u64 = 0;
const BPF_MAP_LOOKUP_ELEM: u64 = 1;
const BPF_MAP_UPDATE_ELEM: u64 = 2;
const BPF_MAP_DELETE_ELEM: u64 = 3;
const BPF_MAP_GET_NEXT_KEY: u64 = 4;
const BPF_PROG_LOAD: u64 = 5;
const BPF_OBJ_PIN: u64 = 6;
const BPF_OBJ_GET: u64 = 7;
const BPF_PROG_ATTACH: u64 = 8;
const BPF_PROG_DETACH: u64 = 9;
const BPF_PROG_TEST_RUN: u64 = 10;
const BPF_PROG_GET_NEXT_ID: u64 = 11;
const BPF_MAP_GET_NEXT_ID: u64 = 12;
const BPF_PROG_GET_FD_BY_ID: u64 = 13;
const BPF_MAP_GET_FD_BY_ID: u64 = 14;
const BPF_OBJ_GET_INFO_BY_FD: u64 = 15;
const BPF_RAW_TRACEPOINT_OPEN: u64 = 17;
const BPF_BTF_LOAD: u64 = 18;
const BPF_BTF_GET_FD_BY_ID: u64 = 19;
const BPF_MAP_LOOKUP_AND_DELETE_ELEM: u64 = 21;
const BPF_MAP_FREEZE: u64 = 22;
const BPF_BTF_GET_NEXT_ID: u64 = 23;
const BPF_LINK_CREATE: u64 = 28;
const BPF_LINK_UPDATE: u64 = 29;
const BPF_LINK_GET_FD_BY_ID: u64 = 30;
const BPF_LINK_GET_NEXT_ID: u64 = 31;

/// Attach types whose link_create strace decodes more of.
const BPF_TRACE_ITER: u32 = 28;
const BPF_PERF_EVENT: u32 = 41;
const BPF_TRACE_KPROBE_MULTI: u32 = 42;

/// BPF_F_NUMA_NODE: map_create's numa_node is set.
const BPF_F_NUMA_NODE: u32 = 1 << 2;
/// BPF_F_REPLACE: link_update's old_prog_fd is set.
const BPF_F_REPLACE: u32 = 1 << 2;

/// An attr's decoded text: what is printed at the call's entry, and what
/// its exit adds (a value the kernel wrote back: ` => 7`), if anything.
pub struct BpfAttr {
    pub entry: String,
    pub tail: Option<String>,
}

/// The fields of one command's attr, each printed only when the attr's
/// `len` bytes reach it.
struct Fields<'a> {
    b: &'a [u8],
    len: usize,
    out: String,
}

impl Fields<'_> {
    /// Whether the attr has the field at `off` (strace: `len <= offsetof`
    /// ends the structure).
    fn has(&self, off: usize) -> bool {
        self.len > off
    }
    fn u32(&self, off: usize) -> u32 {
        read(&self.b[off..]).unwrap_or(0)
    }
    fn u64(&self, off: usize) -> u64 {
        read(&self.b[off..]).unwrap_or(0)
    }
    fn sep(&mut self) {
        if !self.out.ends_with('{') {
            self.out.push_str(", ");
        }
    }
    fn uint(&mut self, name: &str, off: usize) {
        self.sep();
        let _ = write!(self.out, "{name}={}", self.u32(off));
    }
    fn int(&mut self, name: &str, off: usize) {
        self.sep();
        let _ = write!(self.out, "{name}={}", self.u32(off) as i32);
    }
    fn addr(&mut self, name: &str, off: usize) {
        self.sep();
        let _ = write!(
            self.out,
            "{name}={}",
            crate::strace::decoders::ptr(self.u64(off))
        );
    }
    /// An object's name (BPF_OBJ_NAME_LEN bytes), as much of it as the
    /// attr has.
    fn obj_name(&mut self, name: &str, off: usize, hex: HexStyle) {
        self.sep();
        let len = 16.min(self.len - off);
        push_name(&mut self.out, name, &self.b[off..off + len], hex);
    }
    /// A network interface: its index, by name when it has one.
    fn ifindex(&mut self, name: &str, off: usize) {
        self.sep();
        let _ = write!(self.out, "{name}={}", ifindex_text(self.u32(off)));
    }
    /// A number in hex (strace's PRINT_FIELD_X: `0`, `0x10`), of `bytes` 4 or 8.
    fn hex(&mut self, name: &str, off: usize, bytes: usize) {
        self.sep();
        let v = if bytes == 8 {
            self.u64(off)
        } else {
            u64::from(self.u32(off))
        };
        if v == 0 {
            let _ = write!(self.out, "{name}=0");
        } else {
            let _ = write!(self.out, "{name}={v:#x}");
        }
    }
    fn flags(&mut self, name: &str, off: usize, table: Xlat, unknown: &str) {
        self.sep();
        let v = self.u32(off).into();
        let _ = write!(
            self.out,
            "{name}={}",
            flags::flags_or_unknown(table, v, unknown)
        );
    }
    fn xval(&mut self, name: &str, off: usize, table: Xlat, unknown: &str) {
        self.sep();
        let v = self.u32(off).into();
        let _ = write!(
            self.out,
            "{name}={}",
            flags::xval_or_unknown(table, v, unknown)
        );
    }
}

/// The strings an attr points to, in its order: each pointer that is not
/// NULL takes the next one read.
struct Strings<'s, 'a> {
    read: std::slice::Iter<'s, AttrString<'a>>,
}

impl<'a> Strings<'_, 'a> {
    /// The string at `ptr` (None: NULL, or not read: strace shows the
    /// pointer then).
    fn at(&mut self, ptr: u64) -> Option<AttrString<'a>> {
        if ptr == 0 {
            return None;
        }
        self.read.next().copied().filter(|s| !s.faulted)
    }
}

/// `cmd`'s attr from `b` (what was read of it at entry; `after`, at
/// exit), `size` the call's size argument, `strings` what it points to.
/// None: a command not decoded here, or too little was read.
pub fn bpf_attr_text(
    cmd: u64,
    b: &[u8],
    size: u64,
    after: Option<&[u8]>,
    strings: &[AttrString],
    opts: &StraceOptions,
) -> Option<BpfAttr> {
    let hex = opts.hex;
    // strace reads size bytes: all of them must be here to tell the bytes
    // past the fields (a larger attr than was read shows as its address).
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s > 0 && s <= BPF_ATTR_HEAD && s <= b.len())?;
    // Each command's struct in strace's bpf_attr.h: its known size.
    let known = match cmd {
        BPF_PROG_LOAD => 128,
        BPF_OBJ_PIN | BPF_OBJ_GET | BPF_RAW_TRACEPOINT_OPEN => 16,
        BPF_BTF_LOAD => 28,
        BPF_MAP_CREATE => 72,
        BPF_MAP_LOOKUP_ELEM | BPF_MAP_LOOKUP_AND_DELETE_ELEM | BPF_MAP_UPDATE_ELEM => 32,
        BPF_MAP_DELETE_ELEM => 16,
        BPF_MAP_GET_NEXT_KEY => 24,
        BPF_MAP_FREEZE => 4,
        BPF_PROG_ATTACH => 20,
        BPF_PROG_DETACH => 12,
        BPF_LINK_UPDATE => 16,
        BPF_PROG_TEST_RUN => 76,
        // What strace decodes of the union past the head: by attach type
        // (its iterator's and kprobe_multi's arrays are not read here).
        BPF_LINK_CREATE => match read::<u32>(b.get(8..)?)? {
            _ if size <= 16 => 48,
            0 => 20,
            BPF_PERF_EVENT => 24,
            BPF_TRACE_ITER | BPF_TRACE_KPROBE_MULTI => return None,
            _ => 16,
        },
        BPF_PROG_GET_NEXT_ID
        | BPF_MAP_GET_NEXT_ID
        | BPF_BTF_GET_NEXT_ID
        | BPF_LINK_GET_NEXT_ID
        | BPF_PROG_GET_FD_BY_ID
        | BPF_MAP_GET_FD_BY_ID => 12,
        BPF_OBJ_GET_INFO_BY_FD => 16,
        BPF_BTF_GET_FD_BY_ID | BPF_LINK_GET_FD_BY_ID => 4,
        _ => return None,
    };
    let mut attr = [0u8; BPF_ATTR_HEAD];
    attr[..size].copy_from_slice(&b[..size]);
    let mut f = Fields {
        b: &attr,
        len: size.min(known),
        out: String::from("{"),
    };
    let mut tail = None;
    let mut strings = Strings {
        read: strings.iter(),
    };
    match cmd {
        BPF_PROG_LOAD => prog_load(&mut f, &mut strings, opts),
        BPF_OBJ_PIN | BPF_OBJ_GET => {
            // A path: whole, as strace's printpath, not cut at -s.
            f.sep();
            f.out.push_str("pathname=");
            let ptr = f.u64(0);
            match strings.at(ptr) {
                Some(s) => {
                    let more = if s.truncated {
                        Ellipsis::Yes
                    } else {
                        Ellipsis::No
                    };
                    push_quoted(&mut f.out, until_nul(s.bytes), more, hex);
                }
                None => f.out.push_str(&crate::strace::decoders::ptr(ptr)),
            }
            f.int("bpf_fd", 8);
            if f.has(12) {
                f.flags("file_flags", 12, flags::BPF_FILE_MODE_FLAGS, "BPF_F_???");
            }
        }
        BPF_RAW_TRACEPOINT_OPEN => {
            f.out.push_str("raw_tracepoint={");
            // strace reads at most 128 bytes of the name.
            f.string("name", 0, &mut strings, 128, opts);
            f.int("prog_fd", 8);
            f.out.push('}');
        }
        BPF_BTF_LOAD => {
            // btf_size bytes, shown up to -s (strace's printstrn).
            f.sep();
            f.out.push_str("btf=");
            let ptr = f.u64(0);
            let len = f.u32(16) as usize;
            match strings.at(ptr) {
                Some(s) => {
                    let limit = opts.string_size;
                    let bytes = &s.bytes[..s.bytes.len().min(len)];
                    let shown = &bytes[..bytes.len().min(limit)];
                    f.out
                        .push_str(&quote_limited::<String>(shown, limit, len > limit, hex));
                }
                None => f.out.push_str(&crate::strace::decoders::ptr(ptr)),
            }
            f.addr("btf_log_buf", 8);
            f.uint("btf_size", 16);
            f.uint("btf_log_size", 20);
            f.uint("btf_log_level", 24);
        }
        BPF_MAP_CREATE => map_create(&mut f, hex),
        BPF_MAP_LOOKUP_ELEM | BPF_MAP_LOOKUP_AND_DELETE_ELEM => {
            f.int("map_fd", 0);
            f.addr("key", 8);
            f.addr("value", 16);
            if f.has(24) {
                f.flags("flags", 24, flags::BPF_MAP_LOOKUP_ELEM_FLAGS, "BPF_???");
            }
        }
        BPF_MAP_UPDATE_ELEM => {
            f.int("map_fd", 0);
            f.addr("key", 8);
            f.addr("value", 16);
            f.xval("flags", 24, flags::BPF_MAP_UPDATE_ELEM_FLAGS, "BPF_???");
        }
        BPF_MAP_DELETE_ELEM => {
            f.int("map_fd", 0);
            f.addr("key", 8);
        }
        BPF_MAP_GET_NEXT_KEY => {
            f.int("map_fd", 0);
            f.addr("key", 8);
            f.addr("next_key", 16);
        }
        BPF_MAP_FREEZE => f.int("map_fd", 0),
        BPF_PROG_ATTACH => {
            f.int("target_fd", 0);
            f.int("attach_bpf_fd", 4);
            f.xval("attach_type", 8, flags::BPF_ATTACH_TYPES, "BPF_???");
            f.flags("attach_flags", 12, flags::BPF_ATTACH_FLAGS, "BPF_F_???");
            if f.has(16) {
                f.int("replace_bpf_fd", 16);
            }
        }
        BPF_PROG_DETACH => {
            f.int("target_fd", 0);
            f.xval("attach_type", 8, flags::BPF_ATTACH_TYPES, "BPF_???");
        }
        BPF_PROG_TEST_RUN => {
            // As the call gives it (strace decodes it at entry).
            f.out.push_str("test={");
            f.int("prog_fd", 0);
            f.uint("retval", 4);
            f.uint("data_size_in", 8);
            f.uint("data_size_out", 12);
            f.addr("data_in", 16);
            f.addr("data_out", 24);
            f.uint("repeat", 32);
            f.uint("duration", 36);
            if f.has(40) {
                f.uint("ctx_size_in", 40);
                f.uint("ctx_size_out", 44);
                f.addr("ctx_in", 48);
                f.addr("ctx_out", 56);
            }
            if f.has(64) {
                f.flags("flags", 64, flags::BPF_TEST_RUN_FLAGS, "BPF_F_???");
                f.uint("cpu", 68);
            }
            if f.has(72) {
                f.uint("batch_size", 72);
            }
            f.out.push('}');
        }
        BPF_LINK_CREATE => {
            f.out.push_str("link_create={");
            f.int("prog_fd", 0);
            f.int("target_fd", 4);
            f.xval("attach_type", 8, flags::BPF_ATTACH_TYPES, "BPF_???");
            f.hex("flags", 12, 4);
            if f.has(16) {
                match f.u32(8) {
                    0 if f.u32(16) != 0 => f.uint("target_btf_id", 16),
                    BPF_PERF_EVENT => {
                        f.out.push_str(", perf_event={");
                        f.hex("bpf_cookie", 16, 8);
                        f.out.push('}');
                    }
                    _ => {}
                }
            }
            f.out.push('}');
        }
        BPF_LINK_UPDATE => {
            f.out.push_str("link_update={");
            f.int("link_fd", 0);
            f.int("new_prog_fd", 4);
            f.flags("flags", 8, flags::BPF_ATTACH_FLAGS, "BPF_F_???");
            if f.u32(8) & BPF_F_REPLACE != 0 {
                f.int("old_prog_fd", 12);
            }
            f.out.push('}');
        }
        BPF_PROG_GET_NEXT_ID | BPF_MAP_GET_NEXT_ID | BPF_BTF_GET_NEXT_ID | BPF_LINK_GET_NEXT_ID => {
            f.uint("start_id", 0);
            f.uint("next_id", 4);
            // The next id, written back at exit; then the rest.
            let mut rest = Fields {
                b: &attr,
                len: f.len,
                out: String::new(),
            };
            let next = after.and_then(|a| read::<u32>(a.get(4..)?));
            if let Some(next) = next.filter(|&n| n != f.u32(4)) {
                let _ = write!(rest.out, " => {next}");
            }
            if rest.has(8) {
                rest.flags("open_flags", 8, flags::BPF_FILE_MODE_FLAGS, "BPF_F_???");
            }
            tail = Some(rest.out);
        }
        BPF_PROG_GET_FD_BY_ID | BPF_MAP_GET_FD_BY_ID => {
            f.uint(
                if cmd == BPF_PROG_GET_FD_BY_ID {
                    "prog_id"
                } else {
                    "map_id"
                },
                0,
            );
            f.uint("next_id", 4);
            if f.has(8) {
                f.flags("open_flags", 8, flags::BPF_FILE_MODE_FLAGS, "BPF_F_???");
            }
        }
        BPF_OBJ_GET_INFO_BY_FD => {
            f.out.push_str("info={");
            f.int("bpf_fd", 0);
            f.uint("info_len", 4);
            // At exit: the length the kernel wrote back, and the info's
            // address (strace reads it only with -v).
            let mut rest = String::new();
            let len = after.and_then(|a| read::<u32>(a.get(4..)?));
            if let Some(len) = len.filter(|&n| n != f.u32(4)) {
                let _ = write!(rest, " => {len}");
            }
            let _ = write!(rest, ", info={}}}", crate::strace::decoders::ptr(f.u64(8)));
            tail = Some(rest);
        }
        BPF_BTF_GET_FD_BY_ID => f.uint("btf_id", 0),
        _ => f.uint("link_id", 0),
    }
    // Bytes past what strace knows of the command: `...` if any is set.
    let more = if size > known && attr[known..size].iter().any(|&b| b != 0) {
        ", ..."
    } else {
        ""
    };
    match &mut tail {
        Some(t) => {
            t.push_str(more);
            t.push('}');
        }
        None => {
            f.out.push_str(more);
            f.out.push('}');
        }
    }
    Some(BpfAttr { entry: f.out, tail })
}

/// The bytes before the first NUL.
fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |end| &b[..end])
}

impl Fields<'_> {
    /// A string field: at most `max` bytes of it, and -s's (strace's
    /// printstr_ex with QUOTE_0_TERMINATED); NULL, or its address when it
    /// was not read.
    fn string(
        &mut self,
        name: &str,
        off: usize,
        strings: &mut Strings,
        max: u64,
        opts: &StraceOptions,
    ) {
        self.sep();
        let ptr = self.u64(off);
        let _ = write!(self.out, "{name}=");
        match strings.at(ptr) {
            Some(s) => {
                let bytes = until_nul(s.bytes);
                let max = usize::try_from(max).unwrap_or(usize::MAX);
                // strace reads min(max, -s + 1) bytes: `...` when no NUL
                // came within them.
                let (limit, more) = if max <= opts.string_size {
                    (max, max > 0 && (bytes.len() >= max || s.truncated))
                } else {
                    let limit = opts.string_size;
                    (limit, bytes.len() > limit || s.truncated)
                };
                let shown = &bytes[..bytes.len().min(limit)];
                self.out
                    .push_str(&quote_limited::<String>(shown, limit, more, opts.hex));
            }
            None => self.out.push_str(&crate::strace::decoders::ptr(ptr)),
        }
    }
}

/// BPF_PROG_LOAD's fields (the program's instructions as their address,
/// as strace shows them without -v), each as the attr's size reaches it.
fn prog_load(f: &mut Fields<'_>, strings: &mut Strings, opts: &StraceOptions) {
    f.xval("prog_type", 0, flags::BPF_PROG_TYPES, "BPF_PROG_TYPE_???");
    f.uint("insn_cnt", 4);
    f.addr("insns", 8);
    f.string("license", 16, strings, u64::MAX, opts);
    if !f.has(24) {
        return;
    }
    f.uint("log_level", 24);
    f.uint("log_size", 28);
    // The log as it is when the call starts (strace decodes the attr at
    // entry): up to log_size bytes.
    let log_size = u64::from(f.u32(28));
    f.string("log_buf", 32, strings, log_size, opts);
    if !f.has(40) {
        return;
    }
    f.sep();
    let v = f.u32(40);
    let _ = write!(
        f.out,
        "kern_version=KERNEL_VERSION({}, {}, {})",
        v >> 16,
        (v >> 8) & 0xff,
        v & 0xff
    );
    if !f.has(44) {
        return;
    }
    f.flags("prog_flags", 44, flags::BPF_PROG_FLAGS, "BPF_F_???");
    if !f.has(48) {
        return;
    }
    f.obj_name("prog_name", 48, opts.hex);
    if !f.has(64) {
        return;
    }
    f.ifindex("prog_ifindex", 64);
    if !f.has(68) {
        return;
    }
    f.xval(
        "expected_attach_type",
        68,
        flags::BPF_ATTACH_TYPES,
        "BPF_???",
    );
    if !f.has(72) {
        return;
    }
    f.int("prog_btf_fd", 72);
    f.uint("func_info_rec_size", 76);
    f.addr("func_info", 80);
    f.uint("func_info_cnt", 88);
    f.uint("line_info_rec_size", 92);
    f.addr("line_info", 96);
    f.uint("line_info_cnt", 104);
    if !f.has(108) {
        return;
    }
    f.uint("attach_btf_id", 108);
    if !f.has(112) {
        return;
    }
    f.int("attach_prog_fd", 112);
    if !f.has(120) {
        return;
    }
    f.addr("fd_array", 120);
}

/// BPF_MAP_CREATE's fields, each as the attr's size reaches it.
fn map_create(f: &mut Fields<'_>, hex: HexStyle) {
    f.xval("map_type", 0, flags::BPF_MAP_TYPES, "BPF_MAP_TYPE_???");
    f.uint("key_size", 4);
    f.uint("value_size", 8);
    f.uint("max_entries", 12);
    if !f.has(16) {
        return;
    }
    f.flags("map_flags", 16, flags::BPF_MAP_FLAGS, "BPF_F_???");
    if !f.has(20) {
        return;
    }
    f.int("inner_map_fd", 20);
    if !f.has(24) {
        return;
    }
    if f.u32(16) & BPF_F_NUMA_NODE != 0 {
        f.sep();
        let node = f.u32(24);
        let _ = write!(f.out, "numa_node={node}");
        if node == u32::MAX {
            f.out.push_str(" /* NUMA_NO_NODE */");
        }
    }
    if !f.has(28) {
        return;
    }
    f.obj_name("map_name", 28, hex);
    if !f.has(44) {
        return;
    }
    f.ifindex("map_ifindex", 44);
    if !f.has(48) {
        return;
    }
    f.int("btf_fd", 48);
    f.uint("btf_key_type_id", 52);
    f.uint("btf_value_type_id", 56);
    if !f.has(60) {
        return;
    }
    f.uint("btf_vmlinux_value_type_id", 60);
    if !f.has(64) {
        return;
    }
    f.sep();
    let _ = write!(f.out, "map_extra={}", f.u64(64));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cmd: u64, b: &[u8], after: Option<&[u8]>) -> String {
        let a = bpf_attr_text(
            cmd,
            b,
            b.len() as u64,
            after,
            &[],
            &StraceOptions::default(),
        )
        .unwrap();
        a.entry + &a.tail.unwrap_or_default()
    }

    #[test]
    fn map_create_as_strace_prints_it() {
        let mut b = vec![0u8; 72];
        b[0] = 2; // ARRAY
        b[4] = 4;
        b[8] = 32;
        b[12] = 1;
        b[16..20].copy_from_slice(&(1u32 << 7 | 1 << 10).to_ne_bytes()); // RDONLY_PROG | MMAPABLE
        b[28..41].copy_from_slice(b"libbpf_global");
        assert_eq!(
            text(BPF_MAP_CREATE, &b, None),
            "{map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=32, max_entries=1, \
             map_flags=BPF_F_RDONLY_PROG|BPF_F_MMAPABLE, inner_map_fd=0, map_name=\"libbpf_global\", \
             map_ifindex=0, btf_fd=0, btf_key_type_id=0, btf_value_type_id=0, \
             btf_vmlinux_value_type_id=0, map_extra=0}"
        );
        // A shorter attr stops at its size; bytes set past the known
        // fields are `...`.
        assert_eq!(
            text(BPF_MAP_CREATE, &b[..20], None),
            "{map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=32, max_entries=1, \
             map_flags=BPF_F_RDONLY_PROG|BPF_F_MMAPABLE}"
        );
        b.extend([0, 0, 0, 0, 7, 0, 0, 0]);
        assert!(text(BPF_MAP_CREATE, &b, None).ends_with("map_extra=0, ...}"));
    }

    fn read(bytes: &[u8]) -> AttrString<'_> {
        AttrString {
            bytes,
            truncated: false,
            faulted: false,
        }
    }

    #[test]
    fn prog_load_with_its_license_and_log() {
        let mut b = vec![0u8; 144];
        b[0] = 1; // SOCKET_FILTER
        b[4] = 2;
        b[8..16].copy_from_slice(&0x7ffe_2b0e_ff70u64.to_ne_bytes());
        b[16..24].copy_from_slice(&0x5555_0000_1000u64.to_ne_bytes()); // license
        b[48..52].copy_from_slice(b"test");
        let opts = StraceOptions::default();
        let strings = [read(b"GPL")];
        let text = |b: &[u8], size: u64, strings: &[AttrString]| {
            bpf_attr_text(BPF_PROG_LOAD, b, size, None, strings, &opts)
                .unwrap()
                .entry
        };
        assert_eq!(
            text(&b, 144, &strings),
            "{prog_type=BPF_PROG_TYPE_SOCKET_FILTER, insn_cnt=2, insns=0x7ffe2b0eff70, \
             license=\"GPL\", log_level=0, log_size=0, log_buf=NULL, \
             kern_version=KERNEL_VERSION(0, 0, 0), prog_flags=0, prog_name=\"test\", \
             prog_ifindex=0, expected_attach_type=BPF_CGROUP_INET_INGRESS, prog_btf_fd=0, \
             func_info_rec_size=0, func_info=NULL, func_info_cnt=0, line_info_rec_size=0, \
             line_info=NULL, line_info_cnt=0, attach_btf_id=0, attach_prog_fd=0, fd_array=NULL}"
        );
        // Up to attach_prog_fd (116 bytes); a log of 4 bytes whose first
        // bytes are set; kern_version and flags.
        b[24] = 1;
        b[28] = 4;
        b[32..40].copy_from_slice(&0x5555_0000_2000u64.to_ne_bytes());
        b[40..44].copy_from_slice(&0x0006_1203u32.to_ne_bytes());
        b[44] = 0x21; // STRICT_ALIGNMENT, and one strace 6.1 does not know
        let strings = [read(b"GPL"), read(b"abcdef")];
        let t = text(&b, 116, &strings);
        assert!(
            t.contains(
                "log_level=1, log_size=4, log_buf=\"abcd\"..., \
                        kern_version=KERNEL_VERSION(6, 18, 3), \
                        prog_flags=BPF_F_STRICT_ALIGNMENT|0x20, "
            ),
            "{t}"
        );
        assert!(t.ends_with("attach_btf_id=0, attach_prog_fd=0}"), "{t}");
        // A log buffer that starts empty; a license not read: its address.
        let empty = [
            AttrString {
                faulted: true,
                ..read(b"")
            },
            read(b""),
        ];
        let t = text(&b, 116, &empty);
        assert!(t.contains("license=0x555500001000, "), "{t}");
        assert!(t.contains("log_buf=\"\", "), "{t}");
        // Cut at -s, as printstr.
        let long = [
            read(b"Dual BSD/GPL and a very long license string"),
            read(b""),
        ];
        assert!(text(&b, 116, &long).contains("license=\"Dual BSD/GPL and a very long lic\"..., "));
    }

    #[test]
    fn pinned_paths_and_raw_tracepoints() {
        let opts = StraceOptions::default();
        let mut b = vec![0u8; 16];
        b[0..8].copy_from_slice(&0x5555_0000_3000u64.to_ne_bytes());
        b[8] = 5;
        let path = [read(b"/sys/fs/bpf/a_rather_long_name_of_a_pinned_map")];
        assert_eq!(
            bpf_attr_text(BPF_OBJ_PIN, &b, 16, None, &path, &opts)
                .unwrap()
                .entry,
            "{pathname=\"/sys/fs/bpf/a_rather_long_name_of_a_pinned_map\", bpf_fd=5, file_flags=0}"
        );
        assert_eq!(
            bpf_attr_text(BPF_OBJ_GET, &b, 12, None, &path, &opts)
                .unwrap()
                .entry,
            "{pathname=\"/sys/fs/bpf/a_rather_long_name_of_a_pinned_map\", bpf_fd=5}"
        );
        let mut btf = vec![0u8; 28];
        btf[0..8].copy_from_slice(&0x5555_0000_4000u64.to_ne_bytes());
        btf[16] = 40;
        let data: Vec<u8> = (0..40).collect();
        assert_eq!(
            bpf_attr_text(BPF_BTF_LOAD, &btf, 28, None, &[read(&data)], &opts)
                .unwrap()
                .entry,
            "{btf=\"\\0\\1\\2\\3\\4\\5\\6\\7\\10\\t\\n\\v\\f\\r\\16\\17\\20\\21\\22\\23\\24\\25\\26\\27\\30\\31\\32\\33\\34\\35\\36\\37\"..., \
             btf_log_buf=NULL, btf_size=40, btf_log_size=0, btf_log_level=0}"
        );
        let mut run = vec![0u8; 80];
        run[0] = 7;
        run[64] = 1;
        assert_eq!(
            bpf_attr_text(BPF_PROG_TEST_RUN, &run, 80, None, &[], &opts)
                .unwrap()
                .entry,
            "{test={prog_fd=7, retval=0, data_size_in=0, data_size_out=0, data_in=NULL, \
             data_out=NULL, repeat=0, duration=0, ctx_size_in=0, ctx_size_out=0, ctx_in=NULL, \
             ctx_out=NULL, flags=BPF_F_TEST_RUN_ON_CPU, cpu=0, batch_size=0}}"
        );
        assert_eq!(
            bpf_attr_text(BPF_PROG_TEST_RUN, &run, 40, None, &[], &opts)
                .unwrap()
                .entry,
            "{test={prog_fd=7, retval=0, data_size_in=0, data_size_out=0, data_in=NULL, \
             data_out=NULL, repeat=0, duration=0}}"
        );
        // BPF_LINK_CREATE: the head, then the union by attach type.
        let mut link = vec![0u8; 48];
        link[0] = 7;
        link[4..8].copy_from_slice(&(-1i32).to_ne_bytes());
        link[8] = 41; // BPF_PERF_EVENT
        link[16] = 0x2a;
        assert_eq!(
            bpf_attr_text(BPF_LINK_CREATE, &link, 48, None, &[], &opts)
                .unwrap()
                .entry,
            "{link_create={prog_fd=7, target_fd=-1, attach_type=BPF_PERF_EVENT, flags=0, \
             perf_event={bpf_cookie=0x2a}}}"
        );
        link[8] = 23; // BPF_TRACE_RAW_TP: the head only; set bytes after it are `...`
        assert_eq!(
            bpf_attr_text(BPF_LINK_CREATE, &link, 48, None, &[], &opts)
                .unwrap()
                .entry,
            "{link_create={prog_fd=7, target_fd=-1, attach_type=BPF_TRACE_RAW_TP, flags=0}, ...}"
        );
        link[8] = 0;
        link[12] = 0x10;
        assert_eq!(
            bpf_attr_text(BPF_LINK_CREATE, &link, 48, None, &[], &opts)
                .unwrap()
                .entry,
            "{link_create={prog_fd=7, target_fd=-1, attach_type=BPF_CGROUP_INET_INGRESS, \
             flags=0x10, target_btf_id=42}}"
        );
        link[8] = 42; // BPF_TRACE_KPROBE_MULTI: its arrays are not read
        assert!(bpf_attr_text(BPF_LINK_CREATE, &link, 48, None, &[], &opts).is_none());
        let name = [read(b"sys_enter")];
        assert_eq!(
            bpf_attr_text(BPF_RAW_TRACEPOINT_OPEN, &b, 16, None, &name, &opts)
                .unwrap()
                .entry,
            "{raw_tracepoint={name=\"sys_enter\", prog_fd=5}}"
        );
        b[0..8].fill(0);
        assert_eq!(
            bpf_attr_text(BPF_RAW_TRACEPOINT_OPEN, &b, 16, None, &[], &opts)
                .unwrap()
                .entry,
            "{raw_tracepoint={name=NULL, prog_fd=5}}"
        );
    }

    #[test]
    fn listing_and_info_with_what_the_kernel_wrote_back() {
        let mut b = vec![0u8; 12];
        let mut after = b.clone();
        after[4] = 7;
        assert_eq!(
            text(BPF_PROG_GET_NEXT_ID, &b, Some(&after)),
            "{start_id=0, next_id=0 => 7, open_flags=0}"
        );
        assert_eq!(
            text(BPF_MAP_GET_NEXT_ID, &b, None),
            "{start_id=0, next_id=0, open_flags=0}"
        );
        b[0] = 7;
        b[8] = 1 << 3;
        assert_eq!(
            text(BPF_PROG_GET_FD_BY_ID, &b, None),
            "{prog_id=7, next_id=0, open_flags=BPF_F_RDONLY}"
        );
        let mut info = vec![0u8; 16];
        info[0] = 3;
        info[4] = 232;
        info[8..16].copy_from_slice(&0x7ffd_0000_1000u64.to_ne_bytes());
        let mut after = info.clone();
        after[4] = 88;
        assert_eq!(
            text(BPF_OBJ_GET_INFO_BY_FD, &info, Some(&after)),
            "{info={bpf_fd=3, info_len=232 => 88, info=0x7ffd00001000}}"
        );
        let mut upd = vec![0u8; 32];
        upd[24] = 1;
        assert_eq!(
            text(BPF_MAP_UPDATE_ELEM, &upd, None),
            "{map_fd=0, key=NULL, value=NULL, flags=BPF_NOEXIST}"
        );
        let mut attach = vec![0u8; 20];
        attach[0..4].copy_from_slice(&(-1i32).to_ne_bytes());
        attach[8] = 2; // BPF_CGROUP_INET_SOCK_CREATE
        attach[12] = 2;
        assert_eq!(
            text(BPF_PROG_ATTACH, &attach, None),
            "{target_fd=-1, attach_bpf_fd=0, attach_type=BPF_CGROUP_INET_SOCK_CREATE, \
             attach_flags=BPF_F_ALLOW_MULTI, replace_bpf_fd=0}"
        );
        attach[8] = 200;
        assert_eq!(
            text(BPF_PROG_DETACH, &attach[..12], None),
            "{target_fd=-1, attach_type=0xc8 /* BPF_??? */}"
        );
        let mut update = vec![0u8; 16];
        update[8] = 4;
        update[12] = 9;
        assert_eq!(
            text(BPF_LINK_UPDATE, &update, None),
            "{link_update={link_fd=0, new_prog_fd=0, flags=BPF_F_REPLACE, old_prog_fd=9}}"
        );
        // Not decoded here, or more than was read: the address.
        let opts = StraceOptions::default();
        assert!(bpf_attr_text(16, &upd, 32, None, &[], &opts).is_none()); // BPF_PROG_QUERY
        assert!(bpf_attr_text(BPF_MAP_UPDATE_ELEM, &upd, 4097, None, &[], &opts).is_none());
    }
}
