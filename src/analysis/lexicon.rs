//! The vocabularies of `intents/`: loading, validation and the compiled matchers.
//!
//! Every label file is a small TOML document (`strong`, `terms`, `weak`, `patterns`); the
//! folder names the category and the file stem the label. Loading collects *every* problem
//! (file and line) before failing, so a shop operator fixes a file in one pass.
//! All terms are normalised exactly like messages and compiled into one Aho-Corasick
//! automaton, searched with overlapping matches: rules later decide which hits count
//! (negation, containment), which needs every candidate, not just the leftmost-longest.

use super::data_error::{from_toml, line_of, DataError, DataErrors};
use super::gate::required_groups;
use super::normalize::{normalize_term, Normalized};
use crate::built_in;
use crate::domain::{Demand, Intent, IssueType, Mood, Threat};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use toml::Spanned;

/// Words the rules use rather than labels of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    Negation,
    /// Looks like a negation but is not (`不然`, `能不能`, `不过`): shields the `不` inside it.
    PseudoNegation,
    DegreeStrong,
    DegreeMild,
    Contrast,
    Insult,
    Sarcasm,
    Question,
    /// `一般`, `的话`, `如果`: a remedy named in the same clause is asked about, not asked for.
    Hypothetical,
    /// `到账了`, `寄回去了`: a remedy in the same clause has already happened.
    Done,
    /// `给了差评`, `差评被删`: a review already written, not a threat of one.
    ReviewGiven,
    /// `被你们举报`, `管理处投诉`: a report made by someone else, not the buyer's threat.
    ReportedByOthers,
}

impl Cue {
    pub(crate) const NAMES: &'static [(&'static str, Cue)] = &[
        ("negation", Cue::Negation),
        ("pseudo_negation", Cue::PseudoNegation),
        ("degree_strong", Cue::DegreeStrong),
        ("degree_mild", Cue::DegreeMild),
        ("contrast", Cue::Contrast),
        ("insult", Cue::Insult),
        ("sarcasm", Cue::Sarcasm),
        ("question", Cue::Question),
        ("hypothetical", Cue::Hypothetical),
        ("done", Cue::Done),
        ("review_given", Cue::ReviewGiven),
        ("reported_by_others", Cue::ReportedByOthers),
    ];

    pub fn as_str(self) -> &'static str {
        Cue::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(n, _)| n)
    }
}

/// What a dictionary hit supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Intent(Intent),
    Issue(IssueType),
    Demand(Demand),
    Mood(Mood),
    Threat(Threat),
    Cue(Cue),
}

/// The category (folder) of a label: terms conflict only within one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Intent,
    Issue,
    Demand,
    Mood,
    Threat,
    Cue,
}

impl Category {
    const FOLDERS: &'static [(&'static str, Category)] = &[
        ("intent", Category::Intent),
        ("issue_type", Category::Issue),
        ("demand", Category::Demand),
        ("mood", Category::Mood),
        ("threat", Category::Threat),
        ("cue", Category::Cue),
    ];

    pub fn folder(self) -> &'static str {
        Category::FOLDERS
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(n, _)| n)
    }

    fn parse_label(self, stem: &str) -> Result<Label, String> {
        let label = match self {
            Category::Intent => Intent::from_str(stem).map(Label::Intent),
            Category::Issue => IssueType::from_str(stem).map(Label::Issue),
            Category::Demand => Demand::from_str(stem).map(Label::Demand),
            Category::Mood => Mood::from_str(stem).map(Label::Mood),
            Category::Threat => Threat::from_str(stem).map(Label::Threat),
            Category::Cue => {
                return Cue::NAMES
                    .iter()
                    .find(|(n, _)| *n == stem)
                    .map(|(_, c)| Label::Cue(*c))
                    .ok_or_else(|| {
                        let names: Vec<_> = Cue::NAMES.iter().map(|(n, _)| *n).collect();
                        format!(
                            "unknown cue `{stem}` (expected one of: {})",
                            names.join(", ")
                        )
                    })
            }
        };
        label.map_err(|e| e.to_string())
    }
}

impl Label {
    pub fn category(self) -> Category {
        match self {
            Label::Intent(_) => Category::Intent,
            Label::Issue(_) => Category::Issue,
            Label::Demand(_) => Category::Demand,
            Label::Mood(_) => Category::Mood,
            Label::Threat(_) => Category::Threat,
            Label::Cue(_) => Category::Cue,
        }
    }

    /// `(category, value)`, the two halves of [`Label::evidence_name`].
    pub fn parts(self) -> (&'static str, &'static str) {
        match self {
            Label::Intent(v) => ("intent", v.as_str()),
            Label::Issue(v) => ("issue_type", v.as_str()),
            Label::Demand(v) => ("demand", v.as_str()),
            Label::Mood(v) => ("mood", v.as_str()),
            Label::Threat(v) => ("threat", v.as_str()),
            Label::Cue(v) => ("cue", v.as_str()),
        }
    }

    /// `category:value`, as shown in evidence.
    pub fn evidence_name(self) -> String {
        let (category, value) = self.parts();
        // Built by hand: `format!` costs several times as much, once per label per message.
        let mut name = String::with_capacity(category.len() + 1 + value.len());
        name.push_str(category);
        name.push(':');
        name.push_str(value);
        name
    }
}

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
        if loader.terms.is_empty() && errors.is_empty() {
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

/// Which patterns could match a text: every literal set a pattern requires goes into one
/// automaton; a pattern runs only when each of its sets has a hit (patterns with no
/// required literal run on every text).
struct Gates {
    automaton: AhoCorasick,
    /// automaton pattern → (regex index, bit of the required set)
    owner: Vec<(usize, u64)>,
    /// per regex: the bits of all its required sets
    full: Vec<u64>,
    ungated: Vec<usize>,
}

impl Gates {
    fn new(regexes: &[(Regex, Entry)]) -> Result<Gates, aho_corasick::BuildError> {
        let (mut literals, mut owner, mut ungated) = (Vec::new(), Vec::new(), Vec::new());
        let mut full = vec![0u64; regexes.len()];
        for (index, (regex, _)) in regexes.iter().enumerate() {
            match required_groups(regex.as_str()) {
                Some(groups) => {
                    // Any subset of the required sets is still a sound filter.
                    for (g, set) in groups.into_iter().take(64).enumerate() {
                        full[index] |= 1 << g;
                        for literal in set {
                            literals.push(literal);
                            owner.push((index, 1u64 << g));
                        }
                    }
                }
                None => ungated.push(index),
            }
        }
        Ok(Gates {
            automaton: AhoCorasick::new(&literals)?,
            owner,
            full,
            ungated,
        })
    }

    /// Indexes of the patterns worth running on `text`, ascending.
    fn candidates(&self, text: &str) -> Vec<usize> {
        let mut seen = vec![0u64; self.full.len()];
        for m in self.automaton.find_overlapping_iter(text) {
            let (regex, bit) = self.owner[m.pattern().as_usize()];
            seen[regex] |= bit;
        }
        for &i in &self.ungated {
            seen[i] = self.full[i];
        }
        (0..self.full.len())
            .filter(|&i| {
                seen[i] == self.full[i] && (self.full[i] != 0 || self.ungated.contains(&i))
            })
            .collect()
    }
}

/// `\d` as ASCII digits: normalised text has only those (full-width ones were folded), and
/// the Unicode class (every script's digits) makes each pattern's DFA much larger.
fn ascii_digits(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('d')) => {
                chars.next();
                out.push_str("[0-9]");
            }
            ('\\', Some(next)) => {
                chars.next();
                out.push(c);
                out.push(next);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The `.toml` files of a folder, sorted; anything else is reported (README files excepted).
fn toml_files(folder: &Path, errors: &mut Vec<DataError>) -> Vec<PathBuf> {
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
struct Loader {
    /// normalised term → its definitions, in load order
    terms: HashMap<String, Vec<Definition>>,
    order: Vec<String>,
    regexes: Vec<(Regex, Entry)>,
    warnings: Vec<DataError>,
}

impl Loader {
    fn load_file(&mut self, file: &Path, category: Category, errors: &mut Vec<DataError>) {
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
    fn conflicts(&mut self) -> Vec<DataError> {
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

    fn build(self, dir: &Path) -> Result<Lexicon, DataErrors> {
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

#[cfg(test)]
mod tests {
    use super::ascii_digits;

    #[test]
    fn digit_classes_become_ascii_and_other_escapes_stay() {
        let cases = [
            ("bare", r"用了\d+天", "用了[0-9]+天"),
            ("in a class", r"[\d一二三]+", "[[0-9]一二三]+"),
            ("escaped backslash", r"\\d", r"\\d"),
            ("other escapes", r"\s\w\.", r"\s\w\."),
            ("non-digit D", r"\D", r"\D"),
        ];
        for (name, pattern, want) in cases {
            assert_eq!(ascii_digits(pattern), want, "{name}");
            assert!(regex::Regex::new(&ascii_digits(pattern)).is_ok(), "{name}");
        }
    }
}
