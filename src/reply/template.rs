//! One reply text, parsed once at load into literal pieces and slots, so a typo such as
//! `{ordr_id}` or a stray brace is a load error instead of a garbled message to a buyer.

use std::fmt;

/// A placeholder a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// The buyer's nickname; not every platform sends one.
    Buyer,
    /// Known only when the buyer wrote it (or the platform sent it).
    OrderId,
    Shop,
    /// When a person takes over, e.g. "2小时内".
    HandoffEta,
    /// The agent's name (agent drafts only).
    Agent,
    /// When the shop will have acted, following its business hours, e.g. "明天18:00前"
    /// (agent drafts only).
    Promise,
}

impl Placeholder {
    /// The slots of the bot's replies to buyers.
    pub const BOT: [Placeholder; 4] = [
        Placeholder::Buyer,
        Placeholder::OrderId,
        Placeholder::Shop,
        Placeholder::HandoffEta,
    ];
    /// The slots of an agent's drafts (`replies/agent.toml`).
    pub const DRAFT: [Placeholder; 5] = [
        Placeholder::Buyer,
        Placeholder::OrderId,
        Placeholder::Shop,
        Placeholder::Agent,
        Placeholder::Promise,
    ];

    fn name(self) -> &'static str {
        match self {
            Placeholder::Buyer => "buyer",
            Placeholder::OrderId => "order_id",
            Placeholder::Shop => "shop",
            Placeholder::HandoffEta => "handoff_eta",
            Placeholder::Agent => "agent",
            Placeholder::Promise => "promise",
        }
    }

    /// Optional slots may be missing at reply time; a variant using one is skipped then.
    pub fn is_optional(self) -> bool {
        matches!(self, Placeholder::Buyer | Placeholder::OrderId)
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(Placeholder),
}

/// A validated reply text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// The values of one reply; `None` (or blank) optional slots rule out variants that use them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slots<'a> {
    pub buyer: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub shop: &'a str,
    pub handoff_eta: &'a str,
    /// Drafts only.
    pub agent: &'a str,
    /// Drafts only.
    pub promise: &'a str,
}

impl<'a> Slots<'a> {
    fn get(&self, slot: Placeholder) -> Option<&'a str> {
        let value = match slot {
            Placeholder::Buyer => self.buyer,
            Placeholder::OrderId => self.order_id,
            Placeholder::Shop => Some(self.shop),
            Placeholder::HandoffEta => Some(self.handoff_eta),
            Placeholder::Agent => Some(self.agent),
            Placeholder::Promise => Some(self.promise),
        };
        // A blank nickname would render as "您好，，": treat it as unknown.
        value.filter(|v| !v.trim().is_empty() || !slot.is_optional())
    }
}

impl Template {
    /// Parses a bot reply's `{slot}` placeholders ([`Placeholder::BOT`]).
    ///
    /// # Errors
    /// Empty text, an unknown slot name, or a `{` / `}` without its partner.
    pub fn parse(text: &str) -> Result<Template, String> {
        Template::parse_with(text, &Placeholder::BOT)
    }

    /// Parses `{slot}` placeholders, each one of `allowed`.
    ///
    /// # Errors
    /// As [`Template::parse`].
    pub fn parse_with(text: &str, allowed: &[Placeholder]) -> Result<Template, String> {
        if text.trim().is_empty() {
            return Err("empty reply text".to_string());
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("unbalanced `}}` in `{text}`"));
            }
            let after = &rest[open + 1..];
            let close = after
                .find(['{', '}'])
                .filter(|&i| after[i..].starts_with('}'))
                .ok_or_else(|| format!("unbalanced `{{` in `{text}`"))?;
            let name = &after[..close];
            let slot = allowed
                .iter()
                .copied()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    let known: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                    format!(
                        "unknown slot `{{{name}}}` (expected one of: {})",
                        known.join(", ")
                    )
                })?;
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            pieces.push(Piece::Placeholder(slot));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    fn slots(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Placeholder(s) => Some(*s),
            Piece::Text(_) => None,
        })
    }

    /// Usable whatever the optional slots hold: what a fallback cell must offer.
    pub fn needs_no_optional_slot(&self) -> bool {
        !self.slots().any(Placeholder::is_optional)
    }

    /// Every slot this template uses has a value.
    pub fn fits(&self, values: &Slots) -> bool {
        self.slots().all(|s| values.get(s).is_some())
    }

    /// The text with slots filled; slots without a value are left out (callers check
    /// [`Self::fits`] first, so that only happens for a misuse).
    pub fn render(&self, values: &Slots) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(s) => out.push_str(values.get(*s).unwrap_or_default()),
            }
        }
        out
    }
}
