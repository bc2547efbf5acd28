//! Replies to buyers (`replies/`): an immediate, soothing text chosen by issue type × mood ×
//! language, and 1–2 next steps for the human agent who takes over.
//!
//! ```no_run
//! use anfu::analysis::Analyzer;
//! use anfu::reply::{ReplyBook, Slots};
//! let analyzer = Analyzer::from_dir("intents".as_ref()).expect("valid intents/");
//! let book = ReplyBook::from_dir("replies".as_ref()).expect("valid replies/");
//! let analysis = analyzer.analyze("杯子到了是碎的！订单号3721458805123456789");
//! let slots = Slots { buyer: None, order_id: analysis.order_id.as_deref(), shop: "小店", handoff_eta: "2小时内", ..Default::default() };
//! let text = book.reply(&analysis, analysis.lang, &slots, "conversation-42");
//! let steps = book.next_steps(&analysis);
//! ```

mod drafts;
mod followup;
mod lang_file;
mod next_steps;
mod select;
mod template;
mod tone;

#[cfg(test)]
mod drafts_tests;
#[cfg(test)]
mod followup_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod validation_tests;

use crate::analysis::data_error::{DataError, DataErrors};
use crate::built_in;
use crate::domain::{Analysis, Intent, Lang};
use drafts::Drafts;
pub use drafts::{Ticket as DraftTicket, MAX_DRAFTS};
pub use followup::Answer as FollowupAnswer;
use followup::Followups;
use lang_file::{LangReplies, Toggle};
use next_steps::NextSteps;
use std::collections::HashMap;
use std::path::Path;
pub use template::Slots;
use tone::Tone;

/// The file holding the agent's next steps.
const NEXT_STEPS_FILE: &str = "next_steps.toml";
/// The file holding the agents' reply drafts.
const DRAFTS_FILE: &str = "agent.toml";
/// The file holding the follow-up (回访); every other `*.toml` is a language file.
const FOLLOWUP_FILE: &str = "followup.toml";

/// Every reply template and next step, validated.
#[derive(Debug, Clone)]
pub struct ReplyBook {
    langs: HashMap<Lang, LangReplies>,
    next_steps: NextSteps,
    drafts: Drafts,
    followups: Followups,
}

impl ReplyBook {
    /// Loads and validates every file under `dir`: one `<lang>.toml` per language
    /// (`zh-Hans.toml`, `zh-Hant.toml`, both required), `next_steps.toml` and the agents'
    /// drafts, `agent.toml`.
    ///
    /// # Errors
    /// All problems at once, each with file and line: TOML syntax, unknown keys, unknown
    /// issue type / mood / language / demand / threat labels, unknown slots or unbalanced
    /// braces, empty variant lists or texts, missing required fallback cells or files.
    pub fn from_dir(dir: &Path) -> Result<ReplyBook, DataErrors> {
        let mut errors = Vec::new();
        let mut files: Vec<_> = match built_in::read_dir(dir) {
            Ok(entries) => entries
                .into_iter()
                .filter(|p| built_in::is_file(p) && p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) => {
                let reason = format!("cannot read the replies folder: {e}");
                return Err(DataErrors(vec![DataError::new(dir, None, reason)]));
            }
        };
        files.sort();

        let mut langs = HashMap::new();
        let mut next_steps = None;
        let mut drafts = None;
        let mut followups = None;
        for file in &files {
            let source = match built_in::read_to_string(file) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(DataError::new(file, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            if file.file_name().is_some_and(|n| n == NEXT_STEPS_FILE) {
                next_steps = Some(NextSteps::load(file, &source, &mut errors));
                continue;
            }
            if file.file_name().is_some_and(|n| n == DRAFTS_FILE) {
                drafts = Some(Drafts::load(file, &source, &mut errors));
                continue;
            }
            if file.file_name().is_some_and(|n| n == FOLLOWUP_FILE) {
                followups = Some(Followups::load(file, &source, &mut errors));
                continue;
            }
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            match stem.parse::<Lang>() {
                Ok(lang) => {
                    langs.insert(lang, lang_file::load(file, &source, &mut errors));
                }
                Err(e) => errors.push(DataError::new(
                    file,
                    Some(1),
                    format!(
                        "the file name must be a language, `{NEXT_STEPS_FILE}`, \
                         `{DRAFTS_FILE}` or `{FOLLOWUP_FILE}`: {e}"
                    ),
                )),
            }
        }
        // No Simplified stand-in for Traditional: Taiwan and Hong Kong buyers read it as
        // careless, and the generic cells required in each file already catch every gap.
        for lang in Lang::ALL {
            if !langs.contains_key(lang) {
                let file = dir.join(format!("{lang}.toml"));
                errors.push(DataError::new(
                    &file,
                    None,
                    "missing: every language needs its reply file",
                ));
            }
        }
        if next_steps.is_none() {
            let reason = "missing: the agent's next steps per issue type";
            errors.push(DataError::new(&dir.join(NEXT_STEPS_FILE), None, reason));
        }
        if drafts.is_none() {
            let reason = "missing: the agents' reply drafts";
            errors.push(DataError::new(&dir.join(DRAFTS_FILE), None, reason));
        }
        if followups.is_none() {
            let reason = "missing: the follow-up's question, invitation and answer words";
            errors.push(DataError::new(&dir.join(FOLLOWUP_FILE), None, reason));
        }
        match (errors.is_empty(), next_steps, drafts, followups) {
            (true, Some(next_steps), Some(drafts), Some(followups)) => Ok(ReplyBook {
                langs,
                next_steps,
                drafts,
                followups,
            }),
            _ => Err(DataErrors(errors)),
        }
    }

    /// The reply text for this analysis in `lang` (the buyer's detected language), or `None`
    /// when that kind of reply is switched off. `seed` (e.g. the conversation id) picks the
    /// variant deterministically.
    pub fn reply(
        &self,
        analysis: &Analysis,
        lang: Lang,
        slots: &Slots,
        seed: &str,
    ) -> Option<String> {
        let replies = self.langs.get(&lang)?;
        let chosen = match analysis.intent {
            Intent::Complaint => {
                let cells = select::chain(analysis.issue_type, Tone::of(analysis));
                let variants = cells
                    .into_iter()
                    .filter_map(|cell| replies.complaint.get(&cell).map(Vec::as_slice));
                select::choose(variants, slots, seed)
            }
            Intent::Inquiry => toggled(&replies.inquiry, slots, seed),
            Intent::Praise => toggled(&replies.praise, slots, seed),
            Intent::Chitchat => toggled(&replies.chitchat, slots, seed),
        };
        chosen.map(|t| t.render(slots))
    }

    /// Up to [`MAX_DRAFTS`] drafts for an agent's answer on this ticket (`agent.toml`), the
    /// slots filled: at least two whenever the file is valid.
    pub fn drafts(&self, ticket: &DraftTicket, slots: &Slots) -> Vec<String> {
        self.drafts.for_ticket(ticket, slots)
    }

    /// The follow-up question (回访) in `lang`; `seed` picks the variant.
    pub fn followup_question(&self, lang: Lang, slots: &Slots, seed: &str) -> Option<String> {
        self.followups.question(lang, slots, seed)
    }

    /// The thanks and review invitation for a buyer satisfied at the follow-up.
    pub fn review_invitation(&self, lang: Lang, slots: &Slots, seed: &str) -> Option<String> {
        self.followups.invitation(lang, slots, seed)
    }

    /// How the buyer answered the follow-up.
    pub fn followup_answer(&self, text: &str) -> FollowupAnswer {
        self.followups.answer(text)
    }

    /// 1–2 suggested next steps for the agent (empty for a non-complaint without steps).
    pub fn next_steps(&self, analysis: &Analysis) -> Vec<String> {
        self.next_steps.for_analysis(analysis)
    }
}

fn toggled<'t>(toggle: &'t Toggle, slots: &Slots, seed: &str) -> Option<&'t template::Template> {
    if !toggle.enabled {
        return None;
    }
    select::choose([toggle.variants.as_slice()], slots, seed)
}
