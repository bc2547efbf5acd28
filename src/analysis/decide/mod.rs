//! From weighted signals to the record: intent, issue type, demands, mood, intensity, threats.
//!
//! The decision is a small, readable scoring model rather than a trained one, so that every
//! label can be explained by the words behind it and a shop operator can steer it by editing
//! `intents/`. The weights below were set on the dev set's *kinds* of messages (calm questions
//! that mention refunds, sarcasm, contrast), not on single lines.

mod evidence;
mod intensity;

use evidence::support;
use intensity::intensity;

use crate::analysis::clauses::Structure;
use crate::analysis::lexicon::{Cue, Hit, Label};
use crate::analysis::rules::{Resolved, Signal};
use crate::domain::{Demand, Intent, IssueType, Mood, Threat};

/// Score a complaint needs, when nothing decisive (threat, insult) is present. One weak term
/// is enough when nothing speaks against it (praise, inquiry, calm cues must be outweighed
/// too): a missed complaint costs a buyer, a needless handoff costs an agent a glance.
const COMPLAINT_THRESHOLD: f32 = 1.0;
/// Score a non-calm mood needs.
const MOOD_THRESHOLD: f32 = 2.0;
/// How much inquiry cues (pre-sale and order-admin words) count against a complaint: they
/// name topics more than acts, so a described problem outweighs them.
const INQUIRY_WEIGHT: f32 = 0.5;
/// Complaint weight of a remedy that presupposes the seller's fault.
const FAULT_REMEDY_WEIGHT: f32 = 2.0;
/// Weight of after-sales evidence when a product problem is present too.
const STAGE_BOOST: f32 = 1.5;
/// Score praise needs to beat a question.
const PRAISE_THRESHOLD: f32 = 2.0;

/// The labels of one message, with the signals that decided them.
#[derive(Debug, Clone)]
pub struct Decision {
    pub intent: Intent,
    pub issue_type: Option<IssueType>,
    pub demands: Vec<Demand>,
    pub mood: Mood,
    pub intensity: u8,
    pub threats: Vec<Threat>,
    /// `(label, span)` pairs that support the decision.
    pub support: Vec<(String, usize, usize)>,
}

/// Running totals over the signals of one message.
#[derive(Debug, Default)]
struct Tally {
    intent: [f32; 4],
    issue: [f32; 10],
    issue_first: [usize; 10],
    mood: [f32; 4],
    /// Mood weights before degree adverbs: whether a mood is present at all does not
    /// depend on `有点`, only how strong it is.
    mood_raw: [f32; 4],
    demands: Vec<(Demand, usize)>,
    threats: Vec<(Threat, usize)>,
}

impl Tally {
    fn new(signals: &[Signal]) -> Tally {
        let mut t = Tally {
            issue_first: [usize::MAX; 10],
            ..Tally::default()
        };
        let demands = DemandSpans::new(signals);
        for s in signals {
            let score = s.score();
            let at = s.hit.start;
            match s.hit.label {
                // A question that names a remedy (`怎么退货`) is a demand, neutral between
                // complaint and inquiry, so it does not count as inquiry evidence too.
                Label::Intent(Intent::Inquiry) if demands.overlap(&s.hit) => {}
                Label::Intent(i) => t.intent[i.index()] += score,
                Label::Issue(i) => {
                    t.issue[i.index()] += score;
                    t.issue_first[i.index()] = t.issue_first[i.index()].min(at);
                }
                Label::Mood(m) => {
                    t.mood[m.index()] += score;
                    t.mood_raw[m.index()] += f32::from(s.hit.weight) * s.factor;
                }
                Label::Demand(d) => add_first(&mut t.demands, d, at),
                Label::Threat(th) => add_first(&mut t.threats, th, at),
                Label::Cue(_) => {}
            }
        }
        t.demands.sort_by_key(|(_, at)| *at);
        t.threats.sort_by_key(|(_, at)| *at);
        t
    }
}

/// The demand hits' spans, sorted by start with the furthest end so far, so that "does this
/// hit overlap a demand" is a binary search rather than a pass over every signal.
struct DemandSpans {
    /// (start, furthest end among demands starting at or before it)
    spans: Vec<(usize, usize)>,
}

impl DemandSpans {
    fn new(signals: &[Signal]) -> DemandSpans {
        let mut spans: Vec<(usize, usize)> = signals
            .iter()
            .filter(|s| matches!(s.hit.label, Label::Demand(_)))
            .map(|s| (s.hit.start, s.hit.end))
            .collect();
        spans.sort_unstable();
        let mut furthest = 0;
        for span in &mut spans {
            furthest = furthest.max(span.1);
            span.1 = furthest;
        }
        DemandSpans { spans }
    }

    /// Whether a demand starts before the hit ends and ends after it starts.
    fn overlap(&self, hit: &Hit) -> bool {
        let starting_before_end = self.spans.partition_point(|&(start, _)| start < hit.end);
        starting_before_end > 0 && self.spans[starting_before_end - 1].1 > hit.start
    }
}

impl Tally {
    /// Adds evidence that is not a dictionary term (sarcasm, insults, punctuation).
    fn add_mood(&mut self, mood: Mood, amount: f32) {
        self.mood[mood.index()] += amount;
        self.mood_raw[mood.index()] += amount;
    }
}

fn add_first<T: PartialEq>(list: &mut Vec<(T, usize)>, value: T, at: usize) {
    match list.iter_mut().find(|(v, _)| *v == value) {
        Some((_, first)) => *first = (*first).min(at),
        None => list.push((value, at)),
    }
}

/// Decides the labels of one message.
pub fn decide(resolved: &Resolved, structure: &Structure) -> Decision {
    let mut t = Tally::new(&resolved.signals);
    drop_borrowed_platform(&resolved.signals, structure, &mut t.threats);
    let insults = resolved.cues_of(Cue::Insult).count();
    let sarcasms = resolved.cues_of(Cue::Sarcasm).count();
    let questions = resolved.cues_of(Cue::Question).count().min(3);

    let issue_total: f32 = t.issue.iter().sum();
    // Anger is always about something, so it counts in full; disappointment can be resigned
    // (`算了, 没事了`) and counts half; worry (`急用`) is no complaint at all.
    let mut negativity = t.intent[Intent::Complaint.index()]
        + issue_total
        + t.mood[Mood::Angry.index()]
        + 0.5 * t.mood[Mood::Disappointed.index()]
        + 3.0 * (t.threats.len() + insults) as f32
        + FAULT_REMEDY_WEIGHT * t.demands.iter().filter(|(d, _)| implies_fault(*d)).count() as f32;

    // Sarcasm needs something to be sarcastic about; then the praise words are the sarcasm.
    // Sarcasm needs something real to be sarcastic about: `呵呵` after a compliment is a laugh.
    let sarcastic = sarcasms > 0
        && (negativity >= COMPLAINT_THRESHOLD
            || (negativity > 0.0 && structure.has_question_mark)
            || t.mood[Mood::Angry.index()] > 0.0);
    if sarcastic {
        t.intent[Intent::Praise.index()] = 0.0;
        t.add_mood(Mood::Angry, 2.0 * sarcasms as f32);
        negativity += 2.0;
    }
    t.add_mood(Mood::Angry, 3.0 * insults as f32);
    // Punctuation says how loud, the content says which feeling: about a problem, `!` and
    // `??` are anger; with nothing wrong, `在吗???` is impatience.
    let loud = if negativity > 0.0 {
        Mood::Angry
    } else {
        Mood::Anxious
    };
    if structure.has_exclamation {
        t.add_mood(loud, 1.0 + structure.exclamation_runs.min(2) as f32 * 0.5);
    }
    if structure.question_runs > 0 {
        t.add_mood(loud, 2.0);
    }
    // Calm cues (`不急`, `就问问`) speak against both a complaint and a negative mood.
    let calm = t.mood[Mood::Calm.index()];

    let praise = t.intent[Intent::Praise.index()];
    let inquiry = t.intent[Intent::Inquiry.index()];
    let chitchat = t.intent[Intent::Chitchat.index()];
    let complaint = !t.threats.is_empty()
        || insults > 0
        || (negativity >= COMPLAINT_THRESHOLD
            && negativity > praise
            && negativity >= INQUIRY_WEIGHT * inquiry + calm);

    let intent = if complaint {
        Intent::Complaint
    } else if !structure.has_words {
        // Emoji and punctuation alone (`👍👍`, `🙏`) carry a tone, not a request.
        Intent::Chitchat
    } else {
        let asking = inquiry
            + questions as f32
            + if structure.has_question_mark {
                1.0
            } else {
                0.0
            }
            + 2.0 * t.demands.len() as f32;
        if !t.demands.is_empty() {
            // Asking for a remedy without a described problem is a request.
            Intent::Inquiry
        } else if praise >= PRAISE_THRESHOLD && praise >= asking && praise >= chitchat {
            Intent::Praise
        } else if asking > chitchat {
            Intent::Inquiry
        } else if chitchat > 0.0 {
            Intent::Chitchat
        } else if praise > 0.0 {
            Intent::Praise
        } else {
            Intent::Chitchat
        }
    };

    let issue_type = (intent == Intent::Complaint).then(|| {
        // A fight over the remedy outranks the product problem that started it: a broken
        // kettle whose warranty is refused is an after-sales complaint.
        let product = [
            IssueType::Quality,
            IssueType::Damaged,
            IssueType::WrongItem,
            IssueType::NotAsDescribed,
        ];
        if product.iter().any(|i| t.issue[i.index()] > 0.0) {
            t.issue[IssueType::AfterSales.index()] *= STAGE_BOOST;
        }
        let best = IssueType::ALL
            .iter()
            .copied()
            .filter(|i| t.issue[i.index()] > 0.0)
            .max_by(|a, b| {
                let (sa, sb) = (t.issue[a.index()], t.issue[b.index()]);
                sa.total_cmp(&sb)
                    .then(t.issue_first[b.index()].cmp(&t.issue_first[a.index()]))
            });
        best.unwrap_or_else(|| issue_implied_by(t.demands.first().map(|(d, _)| *d)))
    });

    let mut demands: Vec<Demand> = match intent {
        Intent::Complaint | Intent::Inquiry => t.demands.iter().map(|(d, _)| *d).collect(),
        _ => Vec::new(),
    };
    // Asking about a shipment that is late is urging it (`还没发货？`, `到底什么时候发`), unless
    // the buyer has given up and cancels.
    let urging = issue_type == Some(IssueType::ShippingDelay)
        && (structure.has_question_mark || questions > 0)
        && !demands.contains(&Demand::Expedite)
        && !demands.contains(&Demand::Cancel);
    if urging {
        demands.insert(0, Demand::Expedite);
    }
    let threats: Vec<Threat> = t.threats.iter().map(|(th, _)| *th).collect();

    let (mood, mood_score) = if intent == Intent::Praise {
        (Mood::Calm, 0.0)
    } else {
        [Mood::Angry, Mood::Anxious, Mood::Disappointed]
            .into_iter()
            .filter(|m| t.mood_raw[m.index()] >= MOOD_THRESHOLD && t.mood[m.index()] > calm)
            .map(|m| (m, t.mood[m.index()]))
            .fold(
                (Mood::Calm, 0.0f32),
                |best, (m, s)| if s > best.1 { (m, s) } else { best },
            )
    };
    // A complaint that threatens escalation is angry unless another feeling is named.
    let (mood, mood_score) =
        if mood == Mood::Calm && intent == Intent::Complaint && !threats.is_empty() {
            (Mood::Angry, MOOD_THRESHOLD)
        } else {
            (mood, mood_score)
        };
    let intensity = intensity(
        mood,
        mood_score,
        resolved,
        structure,
        threats.len(),
        insults,
    );

    let support = support(
        resolved, intent, issue_type, &demands, mood, &threats, sarcastic,
    );
    Decision {
        intent,
        issue_type,
        demands,
        mood,
        intensity,
        threats,
        support,
    }
}

/// Remedies that presuppose the seller's fault: sending a missing part again, paying back a
/// difference. Asking for them is a complaint even when the problem itself is not named.
fn implies_fault(demand: Demand) -> bool {
    matches!(demand, Demand::Reship | Demand::Compensation)
}

/// With no problem words, the remedy asked for first says what the problem is about.
fn issue_implied_by(demand: Option<Demand>) -> IssueType {
    match demand {
        Some(Demand::Refund | Demand::ReturnRefund) => IssueType::AfterSales,
        Some(Demand::Exchange | Demand::Repair) => IssueType::Quality,
        Some(Demand::Reship) => IssueType::WrongItem,
        Some(Demand::Compensation) => IssueType::Price,
        Some(Demand::Expedite | Demand::Cancel) => IssueType::ShippingDelay,
        Some(Demand::Explanation) | None => IssueType::Other,
    }
}

/// A plain complaint verb (`投诉`, `举报`, `申诉`: a platform term of normal weight) is the
/// regulator's verb when a regulator is named in its clause (`去市场监管局举报`, `向消委會投訴`),
/// not a second threat; beside a bad review (`差评加投诉`) it still names the platform.
fn drop_borrowed_platform(
    signals: &[Signal],
    structure: &Structure,
    threats: &mut Vec<(Threat, usize)>,
) {
    let regulators: Vec<usize> = signals
        .iter()
        .filter(|s| s.hit.label == Label::Threat(Threat::Regulator))
        .map(|s| s.hit.start)
        .collect();
    if regulators.is_empty() {
        return;
    }
    let platform_stands = signals
        .iter()
        .filter(|s| s.hit.label == Label::Threat(Threat::Platform))
        .any(|s| {
            s.hit.weight >= 3
                || !regulators
                    .iter()
                    .any(|&r| structure.same_clause(r, s.hit.start))
        });
    if !platform_stands {
        threats.retain(|(t, _)| *t != Threat::Platform);
    }
}
