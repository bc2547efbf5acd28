//! Compiles the data folders into the binary (`src/built_in.rs` serves them), so that it
//! runs from any directory, and records the git commit for `anfu --version`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders built in, relative to the crate root.
const FOLDERS: [&str; 3] = ["intents", "replies", "fixtures/webhooks"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut found = Vec::new();
    for folder in FOLDERS {
        println!("cargo:rerun-if-changed={folder}");
        files(&root.join(folder), &mut found);
    }
    found.sort();
    let mut code = String::from("/// Every built-in file: its path (`/`-separated, from the crate root) and text.\npub static FILES: &[(&str, &str)] = &[\n");
    for path in &found {
        let relative = path.strip_prefix(&root).expect("under the root");
        let name: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        // include_str! makes each file a dependency: an edit rebuilds the binary.
        writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            name.join("/"),
            path.display().to_string()
        )
        .expect("a String takes it");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("built_in_files.rs"), code).expect("OUT_DIR is writable");

    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ANFU_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
