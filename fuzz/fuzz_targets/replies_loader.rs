#![no_main]
//! The replies/ loader on arbitrary TOML: a copy of the real folder in which one file (chosen
//! by the first input byte: zh-Hans.toml, zh-Hant.toml or next_steps.toml) is replaced by the
//! rest of the input. Any `Err` is fine; a panic is a bug.
use anfu::reply::ReplyBook;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

const FILES: [&str; 3] = ["next_steps.toml", "zh-Hans.toml", "zh-Hant.toml"];

fn copy() -> &'static (tempfile::TempDir, Vec<Vec<u8>>) {
    static C: OnceLock<(tempfile::TempDir, Vec<Vec<u8>>)> = OnceLock::new();
    C.get_or_init(|| {
        let real = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../replies"));
        let dir = tempfile::tempdir().expect("temp dir");
        let originals = FILES
            .iter()
            .map(|name| {
                let bytes = std::fs::read(real.join(name)).expect("read replies file");
                std::fs::write(dir.path().join(name), &bytes).expect("write copy");
                bytes
            })
            .collect();
        (dir, originals)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, toml)) = data.split_first() else {
        return;
    };
    let (dir, originals) = copy();
    let i = pick as usize % FILES.len();
    let path = dir.path().join(FILES[i]);
    std::fs::write(&path, toml).expect("write fuzzed file");
    let _ = ReplyBook::from_dir(dir.path());
    std::fs::write(&path, &originals[i]).expect("restore file");
});
