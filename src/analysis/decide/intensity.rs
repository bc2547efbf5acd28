//! How strong a negative mood is, 0 to 3 (the taxonomy's intensity rubric).

use crate::analysis::clauses::Structure;
use crate::analysis::lexicon::Label;
use crate::analysis::rules::{Degree, Resolved, Signal};
use crate::domain::Mood;

/// 0 when calm; else 1 (mild) to 3 (extreme) from the mood score, degree adverbs,
/// exclamation bursts, threats and insults.
pub(super) fn intensity(
    mood: Mood,
    score: f32,
    resolved: &Resolved,
    structure: &Structure,
    threats: usize,
    insults: usize,
) -> u8 {
    if mood == Mood::Calm {
        return 0;
    }
    let mut level: u8 = if score >= 7.0 {
        3
    } else if score >= 3.0 {
        2
    } else {
        1
    };
    let mood_signals: Vec<&Signal> = resolved
        .signals
        .iter()
        .filter(|s| s.hit.label == Label::Mood(mood))
        .collect();
    if mood_signals.iter().any(|s| s.degree == Degree::Strong) || structure.longest_exclamation >= 3
    {
        level += 1;
    }
    if !mood_signals.is_empty() && mood_signals.iter().all(|s| s.degree == Degree::Mild) {
        level = level.saturating_sub(1).max(1);
    }
    if threats >= 1 {
        level = level.max(2);
    }
    if threats >= 2 || insults > 0 {
        level = 3;
    }
    level.clamp(1, 3)
}
