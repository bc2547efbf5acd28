//! The service end to end: real HTTP on loopback, a real SQLite file, the stand-in platform.

mod agent_api;
mod agent_reply;
mod bad_input;
mod browser;
mod console;
mod conversation;
mod dashboard;
mod delivery;
mod hostile;
mod hours;
mod ladder;
mod metrics;
mod notify;
mod panics;
#[path = "../store_contract/pg.rs"]
#[allow(dead_code)] // shared with the store tests; this binary uses a part
mod pg;
mod rakuten_poll;
mod reload;
mod reports;
mod seller_lines;
mod shopee;
mod shopee_tokens;
mod signatures;
mod sinks;
mod storage_faults;
mod support;
