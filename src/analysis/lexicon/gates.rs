//! Gates for the dictionaries' regular expressions: run a pattern only when its literals are
//! in the text.

use super::Entry;
use crate::analysis::gate::required_groups;
use aho_corasick::AhoCorasick;
use regex::Regex;

/// Which patterns could match a text: every literal set a pattern requires goes into one
/// automaton; a pattern runs only when each of its sets has a hit (patterns with no
/// required literal run on every text).
pub(super) struct Gates {
    automaton: AhoCorasick,
    /// automaton pattern → (regex index, bit of the required set)
    owner: Vec<(usize, u64)>,
    /// per regex: the bits of all its required sets
    full: Vec<u64>,
    ungated: Vec<usize>,
}

impl Gates {
    pub(super) fn new(regexes: &[(Regex, Entry)]) -> Result<Gates, aho_corasick::BuildError> {
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
    pub(super) fn candidates(&self, text: &str) -> Vec<usize> {
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
pub(super) fn ascii_digits(pattern: &str) -> String {
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
