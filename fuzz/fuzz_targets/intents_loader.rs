#![no_main]
//! The intents/ loader on arbitrary TOML. The first input byte picks one of the real folder's
//! files by index (its path decides which category the loader reads it as); the rest of the
//! input becomes that file, alone in an otherwise empty folder. With the first byte's top bit
//! set, the rest is split at its first NUL byte into that file and the next one, so the
//! cross-file checks (one term under two labels) run too. `Err` is fine; a panic is a bug.
//!
//! It drives the loaders (`Lexicon::from_dir`, `OrderIdRules::from_file`), not
//! `Analyzer::from_dir`: that also builds the jieba segmenter from the validated terms, which
//! takes seconds in an instrumented build. The real files are not loaded alongside either:
//! the biggest takes over 3 s in the instrumented build; the seeds (`scripts/fuzz-seeds`)
//! are their first lines instead.
use anfu::analysis::{lexicon::Lexicon, order_id::OrderIdRules};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Folder {
    /// Empty between runs; holds the fuzzed file(s) during one.
    dir: tempfile::TempDir,
    /// Relative paths of every .toml file of the real intents/, sorted.
    files: Vec<PathBuf>,
}

fn folder() -> &'static Folder {
    static F: OnceLock<Folder> = OnceLock::new();
    F.get_or_init(|| {
        let real = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../intents"));
        let mut files = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            for entry in std::fs::read_dir(real.join(&rel)).expect("read intents") {
                let entry = entry.expect("entry");
                let rel = rel.join(entry.file_name());
                if entry.path().is_dir() {
                    stack.push(rel);
                } else if rel.extension().is_some_and(|x| x == "toml") {
                    files.push(rel);
                }
            }
        }
        files.sort();
        Folder {
            dir: tempfile::tempdir().expect("temp dir"),
            files,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let f = folder();
    let first = (pick & 0x7f) as usize % f.files.len();
    let mut written = Vec::new();
    let mut write = |index: usize, bytes: &[u8]| {
        let path = f.dir.path().join(&f.files[index]);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, bytes).expect("write fuzzed file");
        written.push(path);
    };
    match rest.iter().position(|&b| b == 0) {
        Some(nul) if pick & 0x80 != 0 => {
            write(first, &rest[..nul]);
            write((first + 1) % f.files.len(), &rest[nul + 1..]);
        }
        _ => write(first, rest),
    }
    let _ = Lexicon::from_dir(f.dir.path());
    let _ = OrderIdRules::from_file(&f.dir.path().join("order_id.toml"));
    for path in written {
        std::fs::remove_file(path).expect("remove fuzzed file");
    }
});
