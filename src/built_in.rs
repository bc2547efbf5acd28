//! The data compiled into the binary (`intents/`, `replies/`, `fixtures/webhooks/`, by
//! `build.rs`): the defaults, so that the binary runs from any directory. A built-in path is
//! written `<built-in>/intents/...`; the loaders read every path through this module, which
//! serves built-in paths from the binary and others from the disk, so that errors still name
//! the file (and line) whichever it is. `anfu export DIR` writes the built-in set out as a
//! starting point for editable folders.

use std::io;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/built_in_files.rs"));

/// How built-in paths begin.
pub const ROOT: &str = "<built-in>";

/// The built-in copy of a folder (`"intents"`, `"replies"`, `"fixtures/webhooks"`).
pub fn folder(name: &str) -> PathBuf {
    Path::new(ROOT).join(name)
}

/// The path inside the binary, if `path` is a built-in one (`/`-separated).
fn inside(path: &Path) -> Option<String> {
    let rest = path.strip_prefix(ROOT).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} is not built in", path.display()),
    )
}

pub fn read_to_string(path: &Path) -> io::Result<String> {
    match inside(path) {
        None => std::fs::read_to_string(path),
        Some(name) => FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| not_found(path)),
    }
}

/// A folder's entries (files and folders), like `std::fs::read_dir`.
pub fn read_dir(path: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(name) = inside(path) else {
        return std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect();
    };
    let prefix = format!("{name}/");
    let mut children: Vec<PathBuf> = FILES
        .iter()
        .filter_map(|(n, _)| n.strip_prefix(&prefix))
        .map(|rest| path.join(rest.split('/').next().unwrap_or(rest)))
        .collect();
    children.dedup();
    if children.is_empty() {
        return Err(not_found(path));
    }
    Ok(children)
}

pub fn is_dir(path: &Path) -> bool {
    match inside(path) {
        None => path.is_dir(),
        Some(name) => {
            let prefix = format!("{name}/");
            FILES.iter().any(|(n, _)| n.starts_with(&prefix))
        }
    }
}

pub fn is_file(path: &Path) -> bool {
    match inside(path) {
        None => path.is_file(),
        Some(name) => FILES.iter().any(|(n, _)| *n == name),
    }
}

pub fn exists(path: &Path) -> bool {
    is_file(path) || is_dir(path)
}

/// Writes the built-in `intents/` and `replies/` under `dir` (which must not hold them
/// yet): the number of files written.
pub fn export(dir: &Path) -> io::Result<usize> {
    let mut written = 0;
    for (name, text) in FILES {
        if !(name.starts_with("intents/") || name.starts_with("replies/")) {
            continue;
        }
        let target = dir.join(name);
        if target.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists; export into an empty folder", target.display()),
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_folders_list_and_read_like_the_disk() {
        let intents = folder("intents");
        assert!(is_dir(&intents));
        let entries = read_dir(&intents).expect("listed");
        assert!(
            entries.contains(&intents.join("order_id.toml")),
            "{entries:?}"
        );
        assert!(entries.contains(&intents.join("cue")), "{entries:?}");
        assert!(is_dir(&intents.join("cue")) && !is_file(&intents.join("cue")));
        let disk = std::fs::read_to_string("intents/order_id.toml").expect("in the checkout");
        assert_eq!(
            read_to_string(&intents.join("order_id.toml")).expect("read"),
            disk
        );
        assert!(read_to_string(&intents.join("nope.toml")).is_err());
        assert!(!exists(&folder("nope")));
    }
}
