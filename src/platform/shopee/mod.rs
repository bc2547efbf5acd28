//! Shopee Open Platform v2 (platforms.md §7): chat pushes from Shopee Taiwan, and seller
//! chat sends. So far its signature schemes, checked against §7's vectors; the adapter (push
//! parsing, send, token upkeep) is not registered yet.

pub mod sign;
