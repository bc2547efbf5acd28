//! anfu (安抚, "to soothe"): reads Chinese buyer messages sent to online shops, decides
//! whether they are complaints and what about, answers at once and hands complaints to a
//! human agent with a pre-filled summary.

pub mod analysis;
pub mod batch;
pub mod domain;
pub mod eval;
pub mod reply;
