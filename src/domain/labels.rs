//! The label values of the taxonomy (`shared/design/taxonomy.md`), as enums.
//!
//! Every label is parsed from its wire name exactly once, at the edge (a dictionary file
//! name, a labelled eval line); past that, code matches on variants, never on strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a label enum with its wire names, `ALL`, `as_str`, `FromStr` and `Display`.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in taxonomy order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name used in JSON and in dictionary file names.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Position in [`Self::ALL`], for dense score tables.
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabel;
            fn from_str(s: &str) -> Result<Self, UnknownLabel> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownLabel {
                        kind: stringify!($name),
                        value: s.to_string(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A label value that the taxonomy does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of: {})", expected.join(", "))]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

label_enum! {
    /// What the buyer is doing.
    Intent { Complaint = "complaint", Inquiry = "inquiry", Praise = "praise", Chitchat = "chitchat" }
}

label_enum! {
    /// What a complaint is about (only set when the intent is a complaint).
    IssueType {
        Quality = "quality",
        Damaged = "damaged",
        WrongItem = "wrong_item",
        NotAsDescribed = "not_as_described",
        ShippingDelay = "shipping_delay",
        Logistics = "logistics",
        Service = "service",
        Price = "price",
        AfterSales = "after_sales",
        Other = "other",
    }
}

label_enum! {
    /// A remedy the buyer asks for.
    Demand {
        Refund = "refund",
        ReturnRefund = "return_refund",
        Exchange = "exchange",
        Reship = "reship",
        Compensation = "compensation",
        Repair = "repair",
        Expedite = "expedite",
        Explanation = "explanation",
        Cancel = "cancel",
    }
}

label_enum! {
    /// The buyer's emotional tone.
    Mood { Calm = "calm", Anxious = "anxious", Disappointed = "disappointed", Angry = "angry" }
}

label_enum! {
    /// An escalation the buyer threatens (or says they already made).
    Threat {
        BadReview = "bad_review",
        Platform = "platform",
        Regulator = "regulator",
        Legal = "legal",
        Media = "media",
    }
}

label_enum! {
    /// The script the message is written in.
    Lang { Hans = "zh-Hans", Hant = "zh-Hant" }
}

label_enum! {
    /// Handoff priority: P1 any threat or intensity 3, P2 other complaints, P3 the rest.
    Priority { P1 = "P1", P2 = "P2", P3 = "P3" }
}

impl Priority {
    /// The taxonomy's derivation rule.
    pub fn derive(intent: Intent, intensity: u8, has_threat: bool) -> Priority {
        if has_threat || intensity >= 3 {
            Priority::P1
        } else if intent == Intent::Complaint {
            Priority::P2
        } else {
            Priority::P3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for d in Demand::ALL {
            assert_eq!(d.as_str().parse::<Demand>(), Ok(*d));
        }
        for i in IssueType::ALL {
            assert_eq!(i.as_str().parse::<IssueType>(), Ok(*i));
        }
        assert_eq!("zh-Hant".parse::<Lang>(), Ok(Lang::Hant));
    }

    #[test]
    fn unknown_label_names_the_choices() {
        let err = "qualty".parse::<IssueType>().unwrap_err();
        assert!(err.to_string().contains("unknown IssueType `qualty`"));
        assert!(err.to_string().contains("quality"));
    }

    #[test]
    fn priority_follows_the_taxonomy() {
        assert_eq!(Priority::derive(Intent::Inquiry, 0, false), Priority::P3);
        assert_eq!(Priority::derive(Intent::Complaint, 2, false), Priority::P2);
        assert_eq!(Priority::derive(Intent::Complaint, 3, false), Priority::P1);
        assert_eq!(Priority::derive(Intent::Complaint, 0, true), Priority::P1);
    }
}
