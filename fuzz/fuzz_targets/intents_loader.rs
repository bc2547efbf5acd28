#![no_main]
//! The intents/ loader on arbitrary TOML. The first input byte picks one of the real folder's
//! files (its path decides which category the loader reads it as); the rest of the input
//! replaces that file's contents. The top bit of the first byte picks the folder around it:
//! clear, the fuzzed file alone (fast, so most executions explore the parser); set, a copy of
//! the whole real folder (so the cross-file checks — one term under two labels — see real
//! neighbours). `Err` is fine; a panic is a bug.
//!
//! It drives the loaders (`Lexicon::from_dir`, `OrderIdRules::from_file`), not
//! `Analyzer::from_dir`: that also builds the jieba segmenter from the validated terms, which
//! takes seconds in an instrumented build and would leave the fuzzer a handful of runs.
use anfu::analysis::{lexicon::Lexicon, order_id::OrderIdRules};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Folders {
    /// A full copy of intents/; the picked file is replaced for one run and then restored.
    full: tempfile::TempDir,
    /// An empty folder that holds only the fuzzed file during a run.
    alone: tempfile::TempDir,
    /// Relative paths of every .toml file, sorted, with their original contents.
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn folders() -> &'static Folders {
    static F: OnceLock<Folders> = OnceLock::new();
    F.get_or_init(|| {
        let real = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../intents"));
        let full = tempfile::tempdir().expect("temp dir");
        let mut files = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            std::fs::create_dir_all(full.path().join(&rel)).expect("mkdir");
            for entry in std::fs::read_dir(real.join(&rel)).expect("read intents") {
                let entry = entry.expect("entry");
                let rel = rel.join(entry.file_name());
                if entry.path().is_dir() {
                    stack.push(rel);
                } else if rel.extension().is_some_and(|x| x == "toml") {
                    let bytes = std::fs::read(entry.path()).expect("read file");
                    std::fs::write(full.path().join(&rel), &bytes).expect("write copy");
                    files.push((rel, bytes));
                }
            }
        }
        files.sort();
        Folders {
            full,
            alone: tempfile::tempdir().expect("temp dir"),
            files,
        }
    })
}

fn load(dir: &Path) {
    let _ = Lexicon::from_dir(dir);
    let _ = OrderIdRules::from_file(&dir.join("order_id.toml"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, toml)) = data.split_first() else {
        return;
    };
    let f = folders();
    let (rel, original) = &f.files[(pick & 0x7f) as usize % f.files.len()];
    if pick & 0x80 == 0 {
        let path = f.alone.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, toml).expect("write fuzzed file");
        load(f.alone.path());
        std::fs::remove_file(&path).expect("remove fuzzed file");
    } else {
        let path = f.full.path().join(rel);
        std::fs::write(&path, toml).expect("write fuzzed file");
        load(f.full.path());
        std::fs::write(&path, original).expect("restore file");
    }
});
