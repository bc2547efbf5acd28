#![no_main]
//! The intents/ loader on arbitrary TOML: a copy of the real folder in which one file (chosen
//! by the first input byte) is replaced by the rest of the input. Any `Err` is fine; a panic
//! is a bug. The file is restored after each run so only one file ever varies.
use anfu::analysis::Analyzer;
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Copy {
    dir: tempfile::TempDir,
    /// Relative paths of every .toml file, sorted, with their original contents.
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn copy() -> &'static Copy {
    static C: OnceLock<Copy> = OnceLock::new();
    C.get_or_init(|| {
        let real = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../intents"));
        let dir = tempfile::tempdir().expect("temp dir");
        let mut files = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            std::fs::create_dir_all(dir.path().join(&rel)).expect("mkdir");
            for entry in std::fs::read_dir(real.join(&rel)).expect("read intents") {
                let entry = entry.expect("entry");
                let rel = rel.join(entry.file_name());
                if entry.path().is_dir() {
                    stack.push(rel);
                } else if rel.extension().is_some_and(|x| x == "toml") {
                    let bytes = std::fs::read(entry.path()).expect("read file");
                    std::fs::write(dir.path().join(&rel), &bytes).expect("write copy");
                    files.push((rel, bytes));
                }
            }
        }
        files.sort();
        Copy { dir, files }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, toml)) = data.split_first() else {
        return;
    };
    let c = copy();
    let (rel, original) = &c.files[pick as usize % c.files.len()];
    let path = c.dir.path().join(rel);
    std::fs::write(&path, toml).expect("write fuzzed file");
    let _ = Analyzer::from_dir(c.dir.path());
    std::fs::write(&path, original).expect("restore file");
});
