//! Links `ferry` as a position-dependent executable on Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at
//! every start: for this binary that is hundreds of thousands of pointer
//! fix-ups (the AWS SDK's and wasmtime's static tables), and each page they
//! touch is copied on write. That was most of `ferry --help`'s time, and the
//! relocation table is megabytes of the file. Linked at a fixed address
//! there is nothing to relocate. (Packed relative relocations would keep
//! position independence but need glibc 2.36 at run time, newer than the
//! CodeBuild images a pipeline runs ferry in.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && (env == "gnu" || env == "musl") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
