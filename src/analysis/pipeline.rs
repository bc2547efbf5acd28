//! One analysis, start to end: rules, features, model, combine, evidence.

use super::clauses::Structure;
use super::context::{recent, Speaker, Turn, FOLLOW_UP_CHARS};
use super::cue_index::Work;
use super::decide::{self, Decision};
use super::lexicon::Label;
use super::model::combine::{combine, Combined, Source};
use super::model::features::{self as feat, Builder, Features};
use super::model::heads;
use super::model::marks::Marks;
use super::model::{explain, Model};
use super::normalize::Normalized;
use super::rules::{self, Resolved};
use super::{lang, Analyzer};
use crate::domain::{Analysis, Evidence, Mood, Priority};

/// The rules' reading of one text.
struct Read {
    normalized: Normalized,
    boundaries: Vec<bool>,
    resolved: Resolved,
    decision: Decision,
}

/// Everything one run produced.
pub struct Run {
    pub analysis: Analysis,
    pub steps: u64,
    pub features: Features,
}

impl Analyzer {
    fn read(&self, text: &str, work: &Work) -> Read {
        let normalized = Normalized::new(text);
        let boundaries = self
            .segmenter
            .boundaries(&normalized.text, normalized.char_len());
        let structure = Structure::new(&normalized.text);
        let hits = self.lexicon.find(&normalized);
        let resolved = rules::resolve(hits, &normalized, &boundaries, &structure, work);
        let decision = decide::decide(&resolved, &structure);
        Read {
            normalized,
            boundaries,
            resolved,
            decision,
        }
    }

    /// Adds the features of the conversation's earlier turns.
    fn read_context(&self, context: &[Turn], b: &mut Builder, follow_up: bool, work: &Work) {
        for (speaker, text) in recent(context) {
            let r = self.read(text, work);
            let (plain, short, words) = match speaker {
                Speaker::Buyer => ("xb:", "xfb:", "xbw:"),
                Speaker::Shop => ("xs:", "xfs:", "xsw:"),
            };
            for prefix in std::iter::once(plain).chain(follow_up.then_some(short)) {
                feat::add_dictionary(b, prefix, &r.resolved, false);
                if speaker == Speaker::Buyer {
                    feat::add_rule_decision(b, prefix, &r.decision);
                }
            }
            feat::add_context_words(b, words, &r.normalized, &r.boundaries);
        }
        if !context.is_empty() {
            b.add("x:", "has", 1.0, None);
            if follow_up {
                b.add("xf:", "has", 1.0, None);
            }
        }
    }

    /// Analyses `text` after `context` with `model` (or the rules alone).
    pub(super) fn run(
        &self,
        text: &str,
        context: &[Turn],
        model: Option<&Model>,
        keep_names: bool,
    ) -> Run {
        let work = Work::default();
        let read = self.read(text, &work);
        let n = &read.normalized;
        let lang = lang::detect(text, n);
        let order = self.order_ids.find(n);
        // Byte offset of every char (and the end), to cut the evidence's text out of the
        // message in one copy each.
        let byte_at: Vec<usize> = text
            .char_indices()
            .map(|(at, _)| at)
            .chain(std::iter::once(text.len()))
            .collect();
        let original = |start: usize, end: usize| text[byte_at[start]..byte_at[end]].to_string();

        // Without a model (and not training) nothing reads the features or the context.
        let mut b = Builder::new(keep_names, n.char_len());
        if model.is_some() || keep_names {
            feat::add_char_grams(&mut b, n);
            feat::add_words(&mut b, n, &read.boundaries);
            feat::add_dictionary(&mut b, "", &read.resolved, true);
            feat::add_rule_decision(&mut b, "", &read.decision);
            feat::add_marks(&mut b, &Marks::new(&n.text));
            let follow_up = n.char_len() <= FOLLOW_UP_CHARS;
            self.read_context(context, &mut b, follow_up, &work);
        }
        let mut features = b.build();
        if let Some(m) = model {
            m.resolve(&mut features);
        }

        let combined = match model {
            Some(m) => {
                let mut p = m.score(&features);
                let mut c = combine(&read.decision, &read.resolved, &p);
                // What a complaint is about weighs on what the buyer wants: once the issue
                // is decided, its row and its crossings with the message's words add to the
                // demands (only to them), which are decided again.
                if let Some(issue) = c.issue_type {
                    let mut known = false;
                    for at in features.push_issue(issue) {
                        let row = m.row_of(features.keys[at]);
                        features.rows.push(row);
                        if row != feat::NO_ROW {
                            p.add_demands(m.row_at(row));
                            known = true;
                        }
                    }
                    if known {
                        c = combine(&read.decision, &read.resolved, &p);
                    }
                }
                Some((c, p))
            }
            None => None,
        };
        let mut support = labels_and_support(&read.decision, combined.as_ref().map(|c| &c.0));
        if let (Some(m), Some((c, _))) = (model, &combined) {
            add_model_support(&mut support, m, &features, c);
            order_demands_as_stated(&mut support);
        }

        let (mut analysis, spans) = support;
        let mut evidence: Vec<Evidence> = spans
            .into_iter()
            .map(|(label, start, end)| Evidence {
                label,
                text: original(start, end),
                start,
                end,
            })
            .collect();
        if let Some(m) = &order {
            evidence.push(Evidence {
                label: format!("order_id:{}", m.format),
                text: original(m.start, m.end),
                start: m.start,
                end: m.end,
            });
        }
        evidence.sort_by(|a, b| (a.start, a.end, &a.label).cmp(&(b.start, b.end, &b.label)));
        evidence.dedup();

        analysis.order_id = order.map(|m| original(m.start, m.end));
        analysis.lang = lang;
        analysis.evidence = evidence;
        analysis.priority = Priority::derive(
            analysis.intent,
            analysis.intensity,
            !analysis.threats.is_empty(),
        );
        Run {
            analysis,
            steps: work.steps(),
            features,
        }
    }
}

type Support = Vec<(String, usize, usize)>;

/// The labels (from the combination, or the rules alone) and the rule spans behind them.
fn labels_and_support(d: &Decision, combined: Option<&Combined>) -> (Analysis, Support) {
    let mut a = Analysis {
        intent: d.intent,
        issue_type: d.issue_type,
        demands: d.demands.clone(),
        mood: d.mood,
        intensity: d.intensity,
        threats: d.threats.clone(),
        order_id: None,
        lang: crate::domain::Lang::Hans,
        priority: Priority::P3,
        evidence: Vec::new(),
    };
    if let Some(c) = combined {
        a.intent = c.intent;
        a.issue_type = c.issue_type;
        a.demands = c.demands.iter().map(|(d, _)| *d).collect();
        a.mood = c.mood;
        a.intensity = c.intensity;
        a.threats = c.threats.clone();
    }
    let mut wanted: Vec<String> = vec![format!("intent:{}", a.intent)];
    wanted.extend(a.issue_type.map(|i| format!("issue_type:{i}")));
    wanted.extend(a.demands.iter().map(|d| format!("demand:{d}")));
    if a.mood != Mood::Calm {
        wanted.push(format!("mood:{}", a.mood));
    }
    wanted.extend(a.threats.iter().map(|t| format!("threat:{t}")));
    let support = d
        .support
        .iter()
        .filter(|(label, _, _)| {
            label.starts_with("cue:") || label.starts_with("rule:") || wanted.contains(label)
        })
        .cloned()
        .collect();
    (a, support)
}

/// Puts the demands in the order the buyer states them (the first span behind each), as the
/// taxonomy ranks them by prominence: "能给换个L吗？寄回去的运费你们出吧" asks for the exchange
/// first, the postage is a detail of it.
fn order_demands_as_stated(support: &mut (Analysis, Support)) {
    let (analysis, spans) = support;
    let first_at = |d: crate::domain::Demand| {
        let label = format!("demand:{d}");
        spans
            .iter()
            .filter(|(l, _, _)| *l == label)
            .map(|(_, start, _)| *start)
            .min()
            .unwrap_or(usize::MAX)
    };
    analysis.demands.sort_by_cached_key(|d| first_at(*d));
}

/// Adds the model's reasons for the labels it decided.
fn add_model_support(support: &mut (Analysis, Support), m: &Model, f: &Features, c: &Combined) {
    // Every label the model decided, at most one per head and one per demand.
    let mut outputs = [0; explain::MAX_OUTPUTS];
    let mut labels = [Label::Intent(c.intent); explain::MAX_OUTPUTS];
    let mut n = 0;
    let mut ask = |output: usize, label: Label| {
        if n < outputs.len() {
            (outputs[n], labels[n]) = (output, label);
            n += 1;
        }
    };
    if c.intent_from == Source::Model {
        ask(
            heads::INTENT.start + c.intent.index(),
            Label::Intent(c.intent),
        );
    }
    if let (Some(issue), Source::Model) = (c.issue_type, c.issue_from) {
        ask(heads::ISSUE.start + issue.index(), Label::Issue(issue));
    }
    if c.mood_from == Source::Model && c.mood != Mood::Calm {
        ask(heads::MOOD.start + c.mood.index(), Label::Mood(c.mood));
    }
    for (d, source) in &c.demands {
        if *source == Source::Model {
            ask(heads::DEMANDS.start + d.index(), Label::Demand(*d));
        }
    }
    let mut name = (usize::MAX, String::new());
    for (k, (start, end)) in explain::spans(m, f, &outputs[..n]) {
        if name.0 != k {
            name = (k, labels[k].evidence_name());
        }
        support.1.push((name.1.clone(), start, end));
    }
}
