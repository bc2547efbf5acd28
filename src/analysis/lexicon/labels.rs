//! The labels a dictionary term can carry: the record's fields and the rules' own cues.

use crate::domain::{Demand, Intent, IssueType, Mood, Threat};
use std::str::FromStr;

/// Words the rules use rather than labels of the record.
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
    pub(super) const FOLDERS: &'static [(&'static str, Category)] = &[
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

    pub(super) fn parse_label(self, stem: &str) -> Result<Label, String> {
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
