//! Compiles the eBPF programs (exec: src/exec/ebpf/bpf/exec.bpf.c, socket attribution:
//! src/sock/bpf/sock.bpf.c) with clang into OUT_DIR.
//!
//! Never fails the build: without clang (or libbpf-dev's headers) it writes an empty object
//! and records why in NETSNOOP_EBPF_BUILD, and the eBPF exec source reports itself
//! unavailable with that reason at run time, so the other exec sources take over.

use std::path::PathBuf;
use std::process::Command;

/// (source, object in OUT_DIR, env var carrying why it is empty, what it is)
const PROGRAMS: [(&str, &str, &str, &str); 2] = [
    (
        "src/exec/ebpf/bpf/exec.bpf.c",
        "exec.bpf.o",
        "NETSNOOP_EBPF_BUILD",
        "eBPF exec source",
    ),
    (
        "src/sock/bpf/sock.bpf.c",
        "sock.bpf.o",
        "NETSNOOP_SOCK_BPF_BUILD",
        "eBPF socket attribution",
    ),
];

fn main() {
    println!("cargo:rerun-if-env-changed=NETSNOOP_CLANG");
    println!("cargo:rerun-if-env-changed=NETSNOOP_NO_EBPF");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (source, object, env, what) in PROGRAMS {
        println!("cargo:rerun-if-changed={source}");
        let object = out.join(object);
        let status = compile(source, &object);
        if let Err(reason) = &status {
            println!("cargo:warning={what} disabled: {reason}");
            std::fs::write(&object, b"").expect("OUT_DIR is writable");
        }
        let note = status.err().unwrap_or_default().replace('\n', " ");
        println!("cargo:rustc-env={env}={note}");
    }
}

fn compile(source: &str, object: &std::path::Path) -> Result<(), String> {
    if std::env::var_os("NETSNOOP_NO_EBPF").is_some() {
        return Err("built with NETSNOOP_NO_EBPF set".into());
    }
    let clang = std::env::var("NETSNOOP_CLANG").unwrap_or_else(|_| "clang".into());
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok(other) => return Err(format!("no eBPF build for target arch {other}")),
        Err(_) => return Err("CARGO_CFG_TARGET_ARCH unset".into()),
    };
    let multiarch = match arch {
        "x86" => "x86_64-linux-gnu",
        _ => "aarch64-linux-gnu",
    };
    let output = Command::new(&clang)
        .args(["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
        .arg(format!("-D__TARGET_ARCH_{arch}"))
        .arg(format!("-I/usr/include/{multiarch}"))
        .args(["-c", source, "-o"])
        .arg(object)
        .output()
        .map_err(|e| {
            format!(
                "built without clang ({clang}: {e}); install it: apt-get install clang libbpf-dev"
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("")
            .trim();
        return Err(format!(
            "clang could not compile {source} ({first}); apt-get install clang libbpf-dev"
        ));
    }
    Ok(())
}
