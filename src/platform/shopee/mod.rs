//! Shopee Open Platform v2 (platforms.md §7): chat pushes from Shopee Taiwan, and seller
//! chat sends. So far its signature schemes (checked against §7's vectors) and the reading
//! of a chat push; the adapter (storing seller lines and placeholders, the send call, token
//! upkeep) is not registered yet, so no shop can be configured as `shopee`.

pub mod push;
pub mod sign;
