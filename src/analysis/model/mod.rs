//! The learned half of the analyzer: a linear model over many writers' messages, explained
//! like the rules.
//!
//! - [`features`]: what the model sees (character 1–3-grams, jieba words, dictionary hits
//!   after negation, the rules' own decision, punctuation and emoji, the conversation so far),
//!   each with the span it came from;
//! - [`heads`]: one linear layer, softmax heads for intent, issue type, mood and intensity,
//!   one sigmoid per demand;
//! - [`train`]: deterministic SGD with L2 and a minimum feature count, and
//!   leave-one-writer-out cross-validation;
//! - [`weights`]: the `intents/model.tsv` file `anfu train` writes and `anfu check` validates;
//! - [`combine`]: the one documented function that merges rules and model;
//! - [`explain`]: the spans of the features that decided each label the model chose.

pub mod combine;
pub mod explain;
pub mod features;
pub mod heads;
mod label_keys;
pub mod marks;
mod row_index;
pub mod train;
pub mod weights;

pub use weights::Model;

/// Where `anfu train` writes the weights, inside the `intents/` folder.
pub const MODEL_FILE: &str = "model.tsv";
