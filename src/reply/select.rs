//! Choosing a reply: walk the fallback chain of complaint cells, keep the variants whose
//! slots can all be filled, and pick one with a stable hash of the seed.

use super::template::{Slots, Template};
use super::tone::Tone;
use crate::domain::IssueType;

/// The cells to try, most specific first:
/// the issue's tone cell; for angry + threat, the generic careful cell (its wording matters
/// more than naming the issue); the issue's default; the generic tone cell; the generic default.
pub fn chain(issue: Option<IssueType>, tone: Tone) -> Vec<(Option<IssueType>, Tone)> {
    let mut cells = vec![(issue, tone)];
    if tone == Tone::AngryThreat {
        cells.push((None, Tone::AngryThreat));
    }
    cells.extend([(issue, Tone::Default), (None, tone), (None, Tone::Default)]);
    let mut seen = Vec::with_capacity(cells.len());
    cells.retain(|c| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    cells
}

/// A variant of the first cell that has one fitting `slots` (every slot it uses has a value).
pub fn choose<'t>(
    cells: impl IntoIterator<Item = &'t [Template]>,
    slots: &Slots,
    seed: &str,
) -> Option<&'t Template> {
    for variants in cells {
        let fitting: Vec<&Template> = variants.iter().filter(|t| t.fits(slots)).collect();
        if !fitting.is_empty() {
            let index = fnv1a(seed) % fitting.len() as u64;
            return fitting.get(usize::try_from(index).unwrap_or(0)).copied();
        }
    }
    None
}

/// 64-bit FNV-1a: stable across Rust versions and runs, unlike std's `DefaultHasher`, so a
/// conversation keeps getting the same wording after a restart.
pub fn fnv1a(seed: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    seed.bytes()
        .fold(OFFSET, |hash, b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}
