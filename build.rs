//! Compiles the BPF programs in bpf/ with clang (through libbpf-cargo) and
//! generates their skeleton into OUT_DIR. CO-RE: the object is relocated
//! against the running kernel's BTF at load time, so one build runs on any
//! kernel with BTF.
use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "bpf/systrace.bpf.c";

fn main() {
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("systrace.skel.rs");
    SkeletonBuilder::new()
        .source(SRC)
        .clang_args(["-Wall", "-Werror", "-Ibpf"])
        .build_and_generate(&out)
        .unwrap_or_else(|err| panic!("building {SRC} failed (is clang installed?): {err:#}"));
    for path in [SRC, "bpf/systrace.h", "bpf/kernel.h"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
