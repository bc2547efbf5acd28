//! Domain types, parsed at the edge: label enums and the analysis record.

pub mod analysis;
pub mod labels;

pub use analysis::{Analysis, Evidence};
pub use labels::{Demand, Intent, IssueType, Lang, Mood, Priority, Threat, UnknownLabel};
