//! Compiles the BPF programs in bpf/ with clang (through libbpf-cargo) and
//! generates their skeleton into OUT_DIR. CO-RE: the object is relocated
//! against the running kernel's BTF at load time, so one build runs on any
//! kernel with BTF.
use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "bpf/systrace.bpf.c";
/// The architectures the programs support; each build compiles the others
/// too (object only, not used), so a change that breaks one is seen at once
/// even where no machine of it is at hand.
const ARCHES: [(&str, &str); 2] = [("x86_64", "x86"), ("aarch64", "arm64")];

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let obj = out_dir.join("systrace.bpf.o");
    SkeletonBuilder::new()
        .source(SRC)
        .obj(&obj)
        .clang_args(["-Wall", "-Werror", "-Ibpf"])
        .build_and_generate(out_dir.join("systrace.skel.rs"))
        .unwrap_or_else(|err| panic!("building {SRC} failed (is clang installed?): {err:#}"));
    // The object's identity, in the name of the kernel types cut for it at
    // run time (src/kernel/core_btf.rs): FNV-1a of its bytes.
    let bytes = std::fs::read(&obj).expect("the object was just built");
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!("cargo:rustc-env=SYSTRACE_BPF_OBJECT_HASH={hash:016x}");
    for (arch, bpf_arch) in ARCHES.into_iter().filter(|(arch, _)| *arch != target) {
        SkeletonBuilder::new()
            .source(SRC)
            .obj(out_dir.join(format!("systrace-{arch}.bpf.o")))
            .clang_args([
                "-Wall",
                "-Werror",
                "-Ibpf",
                &format!("-D__TARGET_ARCH_{bpf_arch}"),
            ])
            .build()
            .unwrap_or_else(|err| panic!("building {SRC} for {arch} failed: {err:#}"));
    }
    // The program's parts (bpf/*.bpf.h) and headers: the whole directory.
    println!("cargo:rerun-if-changed=bpf");
}
