//! `replies/followup.toml`: the follow-up (回访) after a ticket is resolved — the question
//! asked once, the thanks and review invitation for a satisfied buyer, and the words that
//! tell a satisfied answer from an unhappy one.
//!
//! Two rules are the guides' and are checked here, not left to the file: an invitation never
//! offers anything in exchange for a review (no cash back, coupons, gifts, "five stars"), and
//! it is only ever sent to a buyer whose answer reads satisfied (`Answer::Satisfied`).

use super::template::{Placeholder, Slots, Template};
use crate::analysis::data_error::{from_toml, line_of, DataError};
use crate::domain::Lang;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use toml::Spanned;

/// Slots a follow-up may use: it is not a handoff, so no `{handoff_eta}`.
const SLOTS: [Placeholder; 3] = [Placeholder::Buyer, Placeholder::OrderId, Placeholder::Shop];

/// What a review invitation may never say: anything offered for the review, or a demand for a
/// good one (the platforms forbid both, and buyers read them as bribes).
const INCENTIVES: [&str; 16] = [
    "返现",
    "返利",
    "红包",
    "紅包",
    "优惠券",
    "優惠券",
    "代金券",
    "补偿",
    "補償",
    "赠品",
    "贈品",
    "礼品",
    "禮品",
    "好评",
    "好評",
    "五星",
];

type RawTexts = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(rename = "zh-Hans")]
    hans: Option<RawLang>,
    #[serde(rename = "zh-Hant")]
    hant: Option<RawLang>,
    answers: Option<RawAnswers>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLang {
    ask: RawTexts,
    invite: RawTexts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswers {
    satisfied: RawTexts,
    unhappy: RawTexts,
}

/// How a buyer answered the follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Satisfied,
    Unhappy,
    /// Neither: the message is read as any other.
    Unclear,
}

#[derive(Debug, Clone, Default)]
struct LangTexts {
    ask: Vec<Template>,
    invite: Vec<Template>,
}

/// The validated follow-up file.
#[derive(Debug, Clone, Default)]
pub struct Followups {
    langs: HashMap<Lang, LangTexts>,
    /// Answer words, longest first, each with what it means.
    words: Vec<(String, Answer)>,
}

impl Followups {
    pub fn load(file: &Path, source: &str, errors: &mut Vec<DataError>) -> Followups {
        let whole: RawFile = match toml::from_str(source) {
            Ok(whole) => whole,
            Err(e) => {
                errors.push(from_toml(file, source, &e));
                return Followups::default();
            }
        };
        let mut out = Followups::default();
        let mut err = |byte: usize, reason: String| {
            errors.push(DataError::new(file, Some(line_of(source, byte)), reason));
        };
        for (lang, texts) in [(Lang::Hans, whole.hans), (Lang::Hant, whole.hant)] {
            let Some(texts) = texts else {
                err(
                    0,
                    format!("missing [{lang}]: the follow-up needs `ask` and `invite`"),
                );
                continue;
            };
            let ask = templates(&texts.ask, &format!("[{lang}] ask"), &mut err);
            let invite = templates(&texts.invite, &format!("[{lang}] invite"), &mut err);
            for text in texts.invite.get_ref() {
                if let Some(word) = INCENTIVES.iter().find(|w| text.get_ref().contains(**w)) {
                    err(
                        text.span().start,
                        format!(
                            "[{lang}] invite: `{word}`: an invitation never offers anything for \
                             a review, nor asks for a good one"
                        ),
                    );
                }
            }
            out.langs.insert(lang, LangTexts { ask, invite });
        }
        match whole.answers {
            None => err(
                0,
                "missing [answers]: `satisfied` and `unhappy` words".into(),
            ),
            Some(answers) => {
                for (list, meaning) in [
                    (&answers.satisfied, Answer::Satisfied),
                    (&answers.unhappy, Answer::Unhappy),
                ] {
                    if list.get_ref().is_empty() {
                        err(list.span().start, "[answers]: an empty word list".into());
                    }
                    for word in list.get_ref() {
                        let w = word.get_ref().trim();
                        if w.is_empty() {
                            err(word.span().start, "[answers]: an empty word".into());
                        } else {
                            out.words.push((w.to_string(), meaning));
                        }
                    }
                }
                out.words
                    .sort_by_key(|w| std::cmp::Reverse(w.0.chars().count()));
            }
        }
        out
    }

    /// The question, in `lang`; `seed` picks the variant.
    pub fn question(&self, lang: Lang, slots: &Slots, seed: &str) -> Option<String> {
        pick(&self.langs.get(&lang)?.ask, slots, seed)
    }

    /// The thanks and review invitation, in `lang`.
    pub fn invitation(&self, lang: Lang, slots: &Slots, seed: &str) -> Option<String> {
        pick(&self.langs.get(&lang)?.invite, slots, seed)
    }

    /// Reads an answer: at each position the longest word wins ("没有问题" is satisfied
    /// although it starts with the unhappy "没有"); any unhappy word makes it unhappy.
    pub fn answer(&self, text: &str) -> Answer {
        let chars: Vec<char> = text.chars().collect();
        let (mut satisfied, mut unhappy) = (false, false);
        let mut i = 0;
        while i < chars.len() {
            let rest: String = chars[i..].iter().collect();
            match self
                .words
                .iter()
                .find(|(w, _)| rest.starts_with(w.as_str()))
            {
                Some((w, meaning)) => {
                    match meaning {
                        Answer::Satisfied => satisfied = true,
                        _ => unhappy = true,
                    }
                    i += w.chars().count();
                }
                None => i += 1,
            }
        }
        match (unhappy, satisfied) {
            (true, _) => Answer::Unhappy,
            (false, true) => Answer::Satisfied,
            _ => Answer::Unclear,
        }
    }
}

fn templates(raw: &RawTexts, what: &str, err: &mut impl FnMut(usize, String)) -> Vec<Template> {
    if raw.get_ref().is_empty() {
        err(raw.span().start, format!("{what}: empty list"));
    }
    let mut out = Vec::new();
    for text in raw.get_ref() {
        match Template::parse_with(text.get_ref(), &SLOTS) {
            Ok(t) => out.push(t),
            Err(reason) => err(text.span().start, format!("{what}: {reason}")),
        }
    }
    if !out.is_empty() && !out.iter().any(Template::needs_no_optional_slot) {
        err(
            raw.span().start,
            format!("{what}: needs one text without {{buyer}} or {{order_id}}"),
        );
    }
    out
}

fn pick(texts: &[Template], slots: &Slots, seed: &str) -> Option<String> {
    let fitting: Vec<&Template> = texts.iter().filter(|t| t.fits(slots)).collect();
    if fitting.is_empty() {
        return None;
    }
    let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
    });
    Some(fitting[(hash % fitting.len() as u64) as usize].render(slots))
}
