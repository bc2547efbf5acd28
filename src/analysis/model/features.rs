//! The learned model's features: what a message looks like to the linear model.
//!
//! Every feature is a name (`c2:擦全`, `w:快递`, `d:issue_type:logistics`) with a value and,
//! where it comes from the message itself, the char span behind it, so that a label the
//! model chose can be explained by the spans of its heaviest features. At run time the
//! name is only hashed (FNV-1a, 64 bits, into a reused buffer): no allocation per feature.
//! Training keeps the names, which the weights file stores.
//!
//! Families:
//! - `c1:` `c2:` `c3:` character 1–3-grams of the normalised text (Traditional folded to
//!   Simplified, so both scripts share them), digits folded to `0`, spaces and line breaks
//!   to `|`;
//! - `w:` jieba words (with every dictionary term added to jieba's dictionary);
//! - `d:` dictionary hits after the rules (negation, contrast, degree), valued by their score;
//!   `n:` for a term a negation cancelled;
//! - `r:` the rules' own decision (intent, issue, mood, demands), so the model learns how far
//!   to trust them;
//! - `p:` punctuation runs, emoji, repeated characters, length and line count;
//! - `x…:` the conversation before this message (see [`super::super::context`]).

use super::marks::Marks;
use crate::analysis::decide::Decision;
use crate::analysis::lexicon::Label;
use crate::analysis::normalize::{is_han, Normalized};
use crate::analysis::rules::Resolved;

/// FNV-1a over the bytes of a feature name.
pub fn hash_name(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The features of one message.
#[derive(Debug, Default, Clone)]
pub struct Features {
    pub keys: Vec<u64>,
    pub values: Vec<f32>,
    /// Char span in the message, `None` for whole-message and context features.
    pub spans: Vec<Option<(usize, usize)>>,
    /// The names, kept only when training.
    pub names: Option<Vec<String>>,
    /// Each feature's row in the model ([`NO_ROW`] when unknown), once resolved.
    pub rows: Vec<u32>,
}

/// A feature the model has no weights for.
pub const NO_ROW: u32 = u32::MAX;

/// Builds [`Features`] into a reused name buffer.
pub struct Builder {
    buf: String,
    out: Features,
}

impl Builder {
    pub fn new(keep_names: bool) -> Builder {
        Builder {
            buf: String::with_capacity(64),
            out: Features {
                names: keep_names.then(Vec::new),
                ..Features::default()
            },
        }
    }

    /// Starts a feature name.
    fn start(&mut self, prefix: &str) -> &mut String {
        self.buf.clear();
        self.buf.push_str(prefix);
        &mut self.buf
    }

    /// Ends the name started with [`Builder::start`].
    fn finish(&mut self, value: f32, span: Option<(usize, usize)>) {
        self.out.keys.push(hash_name(&self.buf));
        self.out.values.push(value);
        self.out.spans.push(span);
        if let Some(names) = &mut self.out.names {
            names.push(self.buf.clone());
        }
    }

    /// Adds `prefix` + `body` with a value and span.
    pub fn add(&mut self, prefix: &str, body: &str, value: f32, span: Option<(usize, usize)>) {
        self.start(prefix).push_str(body);
        self.finish(value, span);
    }

    pub fn build(self) -> Features {
        self.out
    }
}

/// Weight of one n-gram or word in a message of `chars` characters: 1 up to 24, then falling
/// with the square root, so a long message's many grams do not drown its few telling ones.
fn length_scale(chars: usize) -> f32 {
    (24.0 / chars.max(1) as f32).sqrt().min(1.0)
}

/// Folds a char for n-grams: digits to `0`, whitespace to `|`.
fn gram_char(c: char) -> char {
    if c.is_ascii_digit() {
        '0'
    } else if c.is_whitespace() {
        '|'
    } else {
        c
    }
}

/// Character 1–3-grams. A run of `|` is one boundary, and grams made only of boundaries or
/// ASCII punctuation are skipped (they say nothing the `p:` features do not).
pub fn add_char_grams(b: &mut Builder, text: &Normalized) {
    let chars: Vec<char> = text.text.chars().map(gram_char).collect();
    for n in 1..=3usize {
        let prefix = match n {
            1 => "c1:",
            2 => "c2:",
            _ => "c3:",
        };
        for start in 0..chars.len().saturating_sub(n - 1) {
            let gram = &chars[start..start + n];
            if gram.iter().all(|c| *c == '|') || (n > 1 && gram.windows(2).any(|w| w == ['|', '|']))
            {
                continue;
            }
            let name = b.start(prefix);
            name.extend(gram.iter());
            b.finish(length_scale(chars.len()), Some((start, start + n)));
        }
    }
}

/// jieba words between consecutive boundaries, skipping whitespace and single marks.
pub fn add_words(b: &mut Builder, text: &Normalized, boundaries: &[bool]) {
    let mut start = 0;
    for (end, _) in boundaries.iter().enumerate().skip(1).filter(|(_, at)| **at) {
        let word = text.slice(start, end);
        let worth = word.chars().any(|c| is_han(c) || c.is_alphanumeric());
        if worth && end - start <= 8 {
            let name = b.start("w:");
            name.extend(word.chars().map(gram_char));
            b.finish(length_scale(text.char_len()), Some((start, end)));
        }
        start = end;
    }
}

/// Dictionary hits after the rules, and the negated ones.
pub fn add_dictionary(b: &mut Builder, prefix: &str, resolved: &Resolved, in_message: bool) {
    let span = |s: usize, e: usize| in_message.then_some((s, e));
    for s in &resolved.signals {
        let name = b.start(prefix);
        if s.flipped_by.is_some() {
            name.push_str("d:rule:negated_praise");
        } else {
            push_label(name, "d:", s.hit.label);
        }
        let value = s.score().clamp(0.0, 6.0) / 2.0;
        b.finish(value, span(s.hit.start, s.hit.end));
    }
    for h in &resolved.cues {
        let name = b.start(prefix);
        push_label(name, "q:", h.label);
        b.finish(1.0, span(h.start, h.end));
    }
    for n in &resolved.negated {
        let name = b.start(prefix);
        push_label(name, "n:", n.target.label);
        b.finish(1.0, span(n.negation.start, n.target.end));
    }
}

/// Appends `kind` + `category:value` (cues by their value alone, as `q:negation`).
fn push_label(name: &mut String, kind: &str, label: Label) {
    let (category, value) = label.parts();
    name.push_str(kind);
    if !matches!(label, Label::Cue(_)) {
        name.push_str(category);
        name.push(':');
    }
    name.push_str(value);
}

/// The rules' decision, as features.
pub fn add_rule_decision(b: &mut Builder, prefix: &str, d: &Decision) {
    let mut add = |kind: &str, value: &str| {
        let name = b.start(prefix);
        name.push_str(kind);
        name.push_str(value);
        b.finish(1.0, None);
    };
    add("r:intent:", d.intent.as_str());
    if let Some(issue) = d.issue_type {
        add("r:issue:", issue.as_str());
    }
    add("r:mood:", d.mood.as_str());
    for demand in &d.demands {
        add("r:demand:", demand.as_str());
    }
    if !d.threats.is_empty() {
        add("r:", "threat");
    }
}

/// Punctuation, emoji, repetition, length and line count.
pub fn add_marks(b: &mut Builder, marks: &Marks) {
    for (name, count, span) in marks.runs() {
        let bucket = match count {
            0 => continue,
            1 => "1",
            2 => "2",
            _ => "3+",
        };
        b.start("p:").push_str(name);
        b.buf.push('=');
        b.buf.push_str(bucket);
        b.finish(1.0, span);
    }
    // No length or line-count features: they told the writers apart (one wrote long angry
    // complaints) rather than complaints from praise, and flagged long mixed reviews.
    b.add("p:", "bias", 1.0, None);
}
