//! Domain types, parsed at the edge: label enums and the analysis record.

pub mod analysis;
pub mod handoff;
pub mod hours;
pub mod labels;
pub mod message;

pub use analysis::{Analysis, Evidence};
pub use handoff::{HandoffCard, TranscriptLine};
pub use hours::{BusinessHours, UtcOffset};
pub use labels::{Demand, Intent, IssueType, Lang, Mood, Priority, Threat, UnknownLabel};
pub use message::{BuyerMessage, MessageKind};
