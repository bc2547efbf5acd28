#![no_main]
//! The replies/ loader on arbitrary TOML. The first input byte picks the file the rest of the
//! input becomes (`next_steps.toml`, `zh-Hans.toml`, `zh-Hant.toml` or `agent.toml`, by index modulo 4).
//! It goes through `ReplyBook::from_dir`, so every check of the real load runs on it.
//!
//! The real companions are never loaded: parsing and checking the whole folder (45 KB of
//! templates) held the target to about 90 runs a second. The fuzzed file is alone in its
//! folder (the "missing file" checks run too), or, with the first byte's top bit set, next to
//! minimal valid companions written once at start (the required `[complaint.default]` cells
//! and switches, a step for every issue type), so that a valid fuzzed file reaches `Ok`; even
//! minimal, the companions cost more than most fuzzed files, hence not on every run. The
//! folders are in /dev/shm when it exists. `Err` is fine; a panic is a bug.
use anfu::domain::IssueType;
use anfu::reply::ReplyBook;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

const FILES: [&str; 4] = ["next_steps.toml", "zh-Hans.toml", "zh-Hant.toml", "agent.toml"];

// Short ASCII in dotted keys: the companions are parsed on every run.
const MINIMAL_LANG: &str = "complaint.default.default = [\"Sorry, within {handoff_eta}.\"]
complaint.default.angry_threat = [\"Sorry.\"]
inquiry.enabled = true
inquiry.variants = [\"Soon.\"]
praise.enabled = false
chitchat.enabled = false
";

// Two unconditional drafts per language.
const MINIMAL_DRAFTS: &str = "[[draft]]\ntext = \"A\"\n[[draft]]\ntext = \"B\"
[[draft]]\nlang = \"zh-Hant\"\ntext = \"A\"\n[[draft]]\nlang = \"zh-Hant\"\ntext = \"B\"
";

fn minimal_next_steps() -> String {
    let mut s = String::from("threat.default = \"Escalate.\"\n");
    for issue in IssueType::ALL {
        s.push_str(&format!("issue.{issue}.default = [\"Check.\"]\n"));
    }
    s
}

/// A folder in memory where there is one: on ext4, rewriting a truncated file on every run
/// waits for the disk (the writes are flushed on close). libFuzzer exits without dropping
/// statics, so the folders outlive the run: `rm -r /dev/shm/anfu-fuzz-replies-*`.
fn tempdir() -> tempfile::TempDir {
    let mut builder = tempfile::Builder::new();
    builder.prefix("anfu-fuzz-replies-");
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = builder.tempdir_in(shm) {
            return dir;
        }
    }
    builder.tempdir().expect("temp dir")
}

struct Folders {
    /// The minimal valid files; the fuzzed one replaces its namesake during a run.
    with_companions: tempfile::TempDir,
    /// Empty between runs.
    alone: tempfile::TempDir,
    minimal: [String; 4],
}

fn folders() -> &'static Folders {
    static F: OnceLock<Folders> = OnceLock::new();
    F.get_or_init(|| {
        let minimal = [
            minimal_next_steps(),
            MINIMAL_LANG.to_string(),
            MINIMAL_LANG.to_string(),
            MINIMAL_DRAFTS.to_string(),
        ];
        let with_companions = tempdir();
        for (name, text) in FILES.iter().zip(&minimal) {
            std::fs::write(with_companions.path().join(name), text).expect("write companion");
        }
        // A companion that no longer loads would turn every run into an early error.
        if let Err(e) = ReplyBook::from_dir(with_companions.path()) {
            panic!("the minimal replies/ files no longer load; update the fuzz target:\n{e}");
        }
        Folders {
            with_companions,
            alone: tempdir(),
            minimal,
        }
    })
}

fn load(dir: &Path, name: &str, toml: &[u8], restore: Option<&str>) {
    let path = dir.join(name);
    std::fs::write(&path, toml).expect("write fuzzed file");
    let _ = ReplyBook::from_dir(dir);
    match restore {
        Some(text) => std::fs::write(&path, text).expect("restore companion"),
        None => std::fs::remove_file(&path).expect("remove fuzzed file"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, toml)) = data.split_first() else {
        return;
    };
    let f = folders();
    let i = (pick & 0x7f) as usize % FILES.len();
    if pick & 0x80 != 0 {
        load(
            f.with_companions.path(),
            FILES[i],
            toml,
            Some(&f.minimal[i]),
        );
    } else {
        load(f.alone.path(), FILES[i], toml, None);
    }
});
