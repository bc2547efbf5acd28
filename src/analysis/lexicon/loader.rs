//! Reading the label files of `intents/`, collecting every problem with its file and line.

use super::gates::{ascii_digits, Gates};
use super::{Category, Entry, Label, Lexicon, Source};
use crate::analysis::data_error::{from_toml, line_of, DataError, DataErrors};
use crate::analysis::normalize::normalize_term;
use crate::built_in;
use aho_corasick::{AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The shape of one label file; unknown keys are errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    #[serde(default)]
    strong: Vec<Spanned<String>>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
    #[serde(default)]
    weak: Vec<Spanned<String>>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
}

/// The `.toml` files of a folder, sorted; anything else is reported (README files excepted).
pub(super) fn toml_files(folder: &Path, errors: &mut Vec<DataError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    match built_in::read_dir(folder) {
        Ok(entries) => {
            for path in entries {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("toml") => files.push(path),
                    Some("md") => {}
                    _ => errors.push(DataError::new(
                        &path,
                        None,
                        "not a .toml file (dictionary folders hold only label files)",
                    )),
                }
            }
        }
        Err(e) => errors.push(DataError::new(folder, None, format!("cannot read: {e}"))),
    }
    files.sort();
    files
}

/// A term as defined in one file.
struct Definition {
    label: Label,
    weight: u8,
    source: Source,
}

#[derive(Default)]
pub(super) struct Loader {
    /// normalised term → its definitions, in load order
    terms: HashMap<String, Vec<Definition>>,
    order: Vec<String>,
    regexes: Vec<(Regex, Entry)>,
    warnings: Vec<DataError>,
}

impl Loader {
    /// Whether no file defined any term.
    pub(super) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub(super) fn load_file(
        &mut self,
        file: &Path,
        category: Category,
        errors: &mut Vec<DataError>,
    ) {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let label = match category.parse_label(stem) {
            Ok(label) => label,
            Err(reason) => {
                errors.push(DataError::new(file, None, reason));
                return;
            }
        };
        let source = match built_in::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                errors.push(DataError::new(file, None, format!("cannot read: {e}")));
                return;
            }
        };
        let parsed: LabelFile = match toml::from_str(&source) {
            Ok(p) => p,
            Err(e) => {
                errors.push(from_toml(file, &source, &e));
                return;
            }
        };
        for (list, weight) in [(&parsed.strong, 3), (&parsed.terms, 2), (&parsed.weak, 1)] {
            for term in list {
                let line = line_of(&source, term.span().start);
                let normalized = normalize_term(term.get_ref());
                if normalized.is_empty() {
                    errors.push(DataError::new(file, Some(line), "empty term"));
                    continue;
                }
                if normalized.chars().any(char::is_control) {
                    errors.push(DataError::new(
                        file,
                        Some(line),
                        format!("term `{}` contains a control character", term.get_ref()),
                    ));
                    continue;
                }
                let definitions = self.terms.entry(normalized.clone()).or_default();
                if definitions.is_empty() {
                    self.order.push(normalized);
                }
                definitions.push(Definition {
                    label,
                    weight,
                    source: Source {
                        file: file.to_path_buf(),
                        line,
                    },
                });
            }
        }
        for pattern in &parsed.patterns {
            let line = line_of(&source, pattern.span().start);
            if pattern.get_ref().trim().is_empty() {
                errors.push(DataError::new(file, Some(line), "empty pattern"));
                continue;
            }
            // Patterns see normalised text, so they are normalised too (`訂單` → `订单`).
            match Regex::new(&ascii_digits(&normalize_term(pattern.get_ref()))) {
                Ok(regex) => self.regexes.push((
                    regex,
                    Entry {
                        label,
                        weight: 2,
                        fresh: false,
                    },
                )),
                Err(e) => errors.push(DataError::new(
                    file,
                    Some(line),
                    format!("bad regular expression `{}`: {e}", pattern.get_ref()),
                )),
            }
        }
    }

    /// A term under two labels of one category is an error; twice under one label, a warning.
    pub(super) fn conflicts(&mut self) -> Vec<DataError> {
        let mut errors = Vec::new();
        for term in &self.order {
            let definitions = &self.terms[term];
            for (i, later) in definitions.iter().enumerate() {
                let Some(first) = definitions[..i]
                    .iter()
                    .find(|d| d.label.category() == later.label.category())
                else {
                    continue;
                };
                let (file, line) = (&later.source.file, later.source.line);
                if first.label == later.label {
                    self.warnings.push(DataError::new(
                        file,
                        Some(line),
                        format!(
                            "term `{term}` is already listed at {}:{}",
                            first.source.file.display(),
                            first.source.line
                        ),
                    ));
                } else {
                    errors.push(DataError::new(
                        file,
                        Some(line),
                        format!(
                            "term `{term}` is listed under both {} ({}:{}) and {}",
                            first.label.evidence_name(),
                            first.source.file.display(),
                            first.source.line,
                            later.label.evidence_name()
                        ),
                    ));
                }
            }
        }
        errors
    }

    pub(super) fn build(self, dir: &Path) -> Result<Lexicon, DataErrors> {
        let mut terms = Vec::with_capacity(self.order.len());
        let mut entries = Vec::with_capacity(self.order.len());
        for term in self.order {
            let mut meanings: Vec<Entry> = Vec::new();
            for d in &self.terms[&term] {
                // A duplicate under the same label keeps its strongest weight.
                match meanings.iter_mut().find(|m| m.label == d.label) {
                    Some(m) => m.weight = m.weight.max(d.weight),
                    None => meanings.push(Entry {
                        label: d.label,
                        weight: d.weight,
                        fresh: false,
                    }),
                }
            }
            terms.push(term);
            entries.push(meanings);
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&terms)
            .map_err(|e| {
                DataErrors(vec![DataError::new(
                    dir,
                    None,
                    format!("cannot compile terms: {e}"),
                )])
            })?;
        let gates = Gates::new(&self.regexes).map_err(|e| {
            DataErrors(vec![DataError::new(
                dir,
                None,
                format!("cannot compile pattern gates: {e}"),
            )])
        })?;
        Ok(Lexicon {
            terms,
            entries,
            automaton,
            regexes: self.regexes,
            gates,
            warnings: self.warnings,
        })
    }
}
