//! The vocabularies of `intents/`: loading, validation and the compiled matchers.
//!
//! Every label file is a small TOML document (`strong`, `terms`, `weak`, `patterns`); the
//! folder names the category and the file stem the label. Loading collects *every* problem
//! (file and line) before failing, so a shop operator fixes a file in one pass.
//! All terms are normalised exactly like messages and compiled into one Aho-Corasick
//! automaton, searched with overlapping matches: rules later decide which hits count
//! (negation, containment), which needs every candidate, not just the leftmost-longest.

mod gates;
mod labels;
mod loader;

use gates::Gates;
use loader::{toml_files, Loader};

pub use labels::{Category, Cue, Label};

use super::data_error::{DataError, DataErrors};
use super::normalize::Normalized;
use crate::built_in;
use aho_corasick::AhoCorasick;
use regex::Regex;
use std::path::{Path, PathBuf};

/// Where a term was defined, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    pub line: usize,
}

/// One meaning of a dictionary term.
#[derive(Debug, Clone)]
pub struct Entry {
    pub label: Label,
    pub weight: u8,
    /// Added to `intents/` after the model was trained: outranks the model.
    pub fresh: bool,
}

/// A match in a message: char offsets into the (original and normalised) text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub label: Label,
    pub weight: u8,
    /// From a term added after the model was trained (see [`Entry::fresh`]).
    pub fresh: bool,
}

impl Hit {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `other` lies inside this hit and is strictly shorter.
    pub fn strictly_contains(&self, other: &Hit) -> bool {
        self.start <= other.start && other.end <= self.end && self.len() > other.len()
    }
}

/// The compiled vocabularies.
pub struct Lexicon {
    /// Normalised terms, indexed like the automaton's patterns.
    terms: Vec<String>,
    /// The meanings of each term (one term may serve several categories).
    entries: Vec<Vec<Entry>>,
    automaton: AhoCorasick,
    regexes: Vec<(Regex, Entry)>,
    gates: Gates,
    /// Problems that do not stop loading (a term listed twice under one label).
    pub warnings: Vec<DataError>,
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon")
            .field("terms", &self.terms.len())
            .field("regexes", &self.regexes.len())
            .finish()
    }
}

impl Lexicon {
    /// Loads every label file under `dir` (`intent/`, `issue_type/`, `demand/`, `mood/`,
    /// `threat/`, `cue/`).
    ///
    /// # Errors
    /// Every problem found, each with its file and (where it has one) line: unreadable or
    /// malformed TOML, unknown keys, unknown folders or labels, empty terms, regexes that do
    /// not compile, and one term listed under two labels of the same category.
    pub fn from_dir(dir: &Path) -> Result<Lexicon, DataErrors> {
        let mut loader = Loader::default();
        let mut errors = Vec::new();
        let entries = match built_in::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                return Err(DataErrors(vec![DataError::new(
                    dir,
                    None,
                    format!("cannot read the intents folder: {e}"),
                )]))
            }
        };
        let mut folders: Vec<PathBuf> = entries;
        folders.sort();
        for folder in folders {
            if !built_in::is_dir(&folder) {
                continue;
            }
            let name = folder.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some(category) = Category::FOLDERS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| *c)
            else {
                let known: Vec<_> = Category::FOLDERS.iter().map(|(n, _)| *n).collect();
                errors.push(DataError::new(
                    &folder,
                    None,
                    format!("unknown folder (expected one of: {})", known.join(", ")),
                ));
                continue;
            };
            for file in toml_files(&folder, &mut errors) {
                loader.load_file(&file, category, &mut errors);
            }
        }
        if loader.is_empty() && errors.is_empty() {
            errors.push(DataError::new(dir, None, "no dictionary terms found"));
        }
        errors.extend(loader.conflicts());
        if !errors.is_empty() {
            return Err(DataErrors(errors));
        }
        loader.build(dir)
    }

    /// Every normalised term, for adding to the segmenter's dictionary.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(String::as_str)
    }

    /// Number of distinct terms and patterns.
    pub fn len(&self) -> usize {
        self.terms.len() + self.regexes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A hash per `(label, term)` and `(label, pattern)`, which the model records at training.
    pub fn entry_keys(&self) -> Vec<u64> {
        let terms = self
            .terms
            .iter()
            .zip(&self.entries)
            .flat_map(|(term, entries)| entries.iter().map(move |e| entry_key(e.label, term)));
        let patterns = self
            .regexes
            .iter()
            .map(|(regex, e)| entry_key(e.label, &format!("/{}/", regex.as_str())));
        terms.chain(patterns).collect()
    }

    /// Marks every entry whose key is not in `trained` as fresh; returns how many.
    pub fn mark_fresh(&mut self, trained: &std::collections::HashSet<u64>) -> usize {
        let mut fresh = 0;
        for (term, entries) in self.terms.iter().zip(&mut self.entries) {
            for e in entries {
                e.fresh = !trained.contains(&entry_key(e.label, term));
                fresh += usize::from(e.fresh);
            }
        }
        for (regex, e) in &mut self.regexes {
            e.fresh = !trained.contains(&entry_key(e.label, &format!("/{}/", regex.as_str())));
            fresh += usize::from(e.fresh);
        }
        fresh
    }

    /// All dictionary and pattern hits in a normalised message, overlapping ones included.
    pub fn find(&self, text: &Normalized) -> Vec<Hit> {
        let mut hits = Vec::new();
        for m in self.automaton.find_overlapping_iter(text.text.as_str()) {
            let start = text.char_at_byte(m.start());
            let end = text.char_at_byte(m.end());
            for entry in &self.entries[m.pattern().as_usize()] {
                hits.push(Hit {
                    start,
                    end,
                    label: entry.label,
                    weight: entry.weight,
                    fresh: entry.fresh,
                });
            }
        }
        for index in self.gates.candidates(&text.text) {
            let (regex, entry) = &self.regexes[index];
            for m in regex.find_iter(&text.text) {
                hits.push(Hit {
                    start: text.char_at_byte(m.start()),
                    end: text.char_at_byte(m.end()),
                    label: entry.label,
                    weight: entry.weight,
                    fresh: entry.fresh,
                });
            }
        }
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        hits
    }
}

/// The hash of one dictionary entry: its label and its normalised term or `/pattern/`.
fn entry_key(label: Label, term: &str) -> u64 {
    crate::analysis::model::features::hash_name(&format!("{}\t{term}", label.evidence_name()))
}
