//! The questions the rules ask about each hit — is there a negation just before it, a degree
//! adverb, a contrast word earlier in its sentence, a hypothetical in its clause, a longer
//! term around it — answered from indexes built once per message, so each answer costs a
//! few probes instead of a pass over every cue. A message that repeats one complaint phrase
//! a thousand times has thousands of hits and cues: a pass per hit made analysis quadratic.
//!
//! Every probe is counted in [`Work`], which the analyzer reports and the fuzz target bounds
//! per input character.

use super::clauses::Structure;
use super::lexicon::{Cue, Hit, Label};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Steps per input character (plus one) that no analysis may exceed with the shipped
/// dictionaries; the analyze fuzz target asserts it. The worst text seen takes 2.5.
pub const STEPS_PER_CHAR_BOUND: u64 = 32;

/// Steps the rules took: hits and cues visited. Linear analysis keeps this within a constant
/// times the number of hits, and hits within a constant times the text length.
#[derive(Debug, Default)]
pub struct Work(Cell<u64>);

impl Work {
    pub fn add(&self, steps: usize) {
        self.0.set(self.0.get().saturating_add(steps as u64));
    }

    pub fn steps(&self) -> u64 {
        self.0.get()
    }
}

/// The hits strictly inside a longer hit of the same group (`group` picks it: a category, or
/// one group for all). `hits` must be sorted by start, longest first at each start (as
/// [`super::lexicon::Lexicon::find`] returns them), so one pass suffices: per group, the
/// furthest end reached by hits starting earlier, and the longest hit starting here.
pub fn strictly_contained<G: Eq + Hash>(hits: &[Hit], group: impl Fn(&Hit) -> G) -> Vec<bool> {
    debug_assert!(hits
        .windows(2)
        .all(|w| (w[0].start, std::cmp::Reverse(w[0].end))
            <= (w[1].start, std::cmp::Reverse(w[1].end))));
    #[derive(Clone, Copy)]
    struct Reach {
        start: usize,
        /// The longest end among hits starting at `start`.
        end_here: usize,
        /// The furthest end among hits starting before `start`.
        end_before: Option<usize>,
    }
    let mut reach: HashMap<G, Reach> = HashMap::new();
    hits.iter()
        .map(|h| {
            let r = reach.entry(group(h)).or_insert(Reach {
                start: h.start,
                end_here: h.end,
                end_before: None,
            });
            if r.start != h.start {
                r.end_before = Some(r.end_before.map_or(r.end_here, |e| e.max(r.end_here)));
                r.start = h.start;
                r.end_here = h.end;
            }
            r.end_before.is_some_and(|e| e >= h.end) || r.end_here > h.end
        })
        .collect()
}

/// Cues of one kind by where they end, for "within N chars before" questions.
#[derive(Default)]
struct Ends {
    /// (end, index into the cue list), sorted.
    list: Vec<(usize, usize)>,
}

impl Ends {
    /// Cues ending in `from..=to`, with their index in the cue list.
    fn within(&self, from: usize, to: usize) -> &[(usize, usize)] {
        let lo = self.list.partition_point(|&(e, _)| e < from);
        let hi = self.list.partition_point(|&(e, _)| e <= to);
        &self.list[lo..hi.max(lo)]
    }
}

/// The surviving cues of a message, indexed.
pub struct CueIndex<'a> {
    cues: &'a [Hit],
    structure: &'a Structure,
    ends: HashMap<Cue, Ends>,
    /// (cue kind, clause) pairs present.
    clauses: HashSet<(Cue, u32)>,
    /// Contrast words' ends, per sentence, sorted.
    contrasts: HashMap<u32, Vec<usize>>,
    pub work: &'a Work,
}

impl<'a> CueIndex<'a> {
    pub fn new(cues: &'a [Hit], structure: &'a Structure, work: &'a Work) -> CueIndex<'a> {
        let mut index = CueIndex {
            cues,
            structure,
            ends: HashMap::new(),
            clauses: HashSet::new(),
            contrasts: HashMap::new(),
            work,
        };
        for (i, c) in cues.iter().enumerate() {
            let Label::Cue(kind) = c.label else { continue };
            index.ends.entry(kind).or_default().list.push((c.end, i));
            if let Some(clause) = structure.clause_of(c.start) {
                index.clauses.insert((kind, clause));
            }
            if kind == Cue::Contrast {
                let sentence = structure.sentence_of(c.start);
                index.contrasts.entry(sentence).or_default().push(c.end);
            }
        }
        for ends in index.ends.values_mut() {
            ends.list.sort_unstable();
        }
        for ends in index.contrasts.values_mut() {
            ends.sort_unstable();
        }
        work.add(cues.len());
        index
    }

    /// Whether a cue of this kind shares the clause of char `at`.
    pub fn in_clause(&self, kind: Cue, at: usize) -> bool {
        self.work.add(1);
        self.structure
            .clause_of(at)
            .is_some_and(|clause| self.clauses.contains(&(kind, clause)))
    }

    /// The last cue (in list order) of this kind that ends at most `reach` chars before `at`
    /// and shares its clause.
    pub fn last_before(&self, kind: Cue, at: usize, reach: usize) -> Option<&'a Hit> {
        let ends = self.ends.get(&kind)?;
        let near = ends.within(at.saturating_sub(reach), at);
        self.work.add(near.len() + 1);
        near.iter()
            .filter(|&&(_, i)| self.structure.same_clause(self.cues[i].start, at))
            .map(|&(_, i)| i)
            .max()
            .map(|i| &self.cues[i])
    }

    /// Contrast words in the sentence of char `at`: how many end at or before it, and whether
    /// any ends after it.
    pub fn contrasts_around(&self, at: usize) -> (usize, bool) {
        self.work.add(1);
        let Some(ends) = self.contrasts.get(&self.structure.sentence_of(at)) else {
            return (0, false);
        };
        let before = ends.partition_point(|&e| e <= at);
        (before, before < ends.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Intent;

    fn hit(start: usize, end: usize, label: Label) -> Hit {
        Hit {
            start,
            end,
            label,
            weight: 1,
            fresh: false,
        }
    }

    /// The pass agrees with the definition (any other hit of the group strictly contains it).
    #[test]
    fn strictly_contained_matches_the_pairwise_definition() {
        let praise = Label::Intent(Intent::Praise);
        let complaint = Label::Intent(Intent::Complaint);
        let negation = Label::Cue(Cue::Negation);
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..500 {
            let mut hits: Vec<Hit> = (0..rng.usize(0..12))
                .map(|_| {
                    let start = rng.usize(0..10);
                    let label = [praise, complaint, negation][rng.usize(0..3)];
                    hit(start, start + rng.usize(1..5), label)
                })
                .collect();
            hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
            let fast = strictly_contained(&hits, |h| h.label.category());
            for (i, h) in hits.iter().enumerate() {
                let slow = hits
                    .iter()
                    .any(|o| o.label.category() == h.label.category() && o.strictly_contains(h));
                assert_eq!(fast[i], slow, "{h:?} in {hits:?}");
            }
        }
    }

    #[test]
    fn last_before_looks_back_within_the_clause() {
        let text = "不太好,不好";
        let structure = Structure::new(text);
        let cues = [
            hit(0, 1, Label::Cue(Cue::Negation)),
            hit(4, 5, Label::Cue(Cue::Negation)),
        ];
        let work = Work::default();
        let index = CueIndex::new(&cues, &structure, &work);
        assert_eq!(index.last_before(Cue::Negation, 2, 3), Some(&cues[0]));
        // The comma at 3 ends the first clause: the first negation cannot reach char 5.
        assert_eq!(index.last_before(Cue::Negation, 5, 3), Some(&cues[1]));
        assert_eq!(index.last_before(Cue::Negation, 4, 3), None);
        assert!(index.in_clause(Cue::Negation, 2));
        assert!(!index.in_clause(Cue::DegreeMild, 2));
    }
}
