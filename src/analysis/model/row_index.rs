//! Which row of the model a feature hash has: an open-addressing table with each key beside
//! its row, probed linearly.
//!
//! A message looks up one key per feature (about two per character). A general hash map
//! keeps control bytes and slots apart and probes in groups; here a lookup is a multiply, a
//! shift and, almost always, one slot read: a third of the instructions, and one cache line
//! touched per feature instead of two.

use super::features::NO_ROW;

/// A slot: a feature hash and its row, [`NO_ROW`] when empty.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    row: u32,
}

const EMPTY: Slot = Slot {
    key: 0,
    row: NO_ROW,
};

/// Feature hash → row. At most half full, so a probe run stays short.
#[derive(Debug, Clone)]
pub struct RowIndex {
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: the top bits of the mixed key pick the first slot.
    shift: u32,
}

impl Default for RowIndex {
    fn default() -> RowIndex {
        RowIndex::with_keys(std::iter::empty())
    }
}

impl RowIndex {
    /// The index of `keys`, the n-th key at row n. A key listed twice keeps its first row
    /// (the weights file refuses duplicates before this).
    pub fn with_keys(keys: impl ExactSizeIterator<Item = u64>) -> RowIndex {
        let size = (keys.len() * 2).next_power_of_two().max(16);
        let mut index = RowIndex {
            slots: vec![EMPTY; size],
            shift: 64 - size.trailing_zeros(),
        };
        for (row, key) in keys.enumerate() {
            let at = index.probe(key);
            if index.slots[at].row == NO_ROW {
                index.slots[at] = Slot {
                    key,
                    row: u32::try_from(row).expect("fewer than 2^32 features"),
                };
            }
        }
        index
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn probe(&self, key: u64) -> usize {
        // FNV's low bits mix poorly; a Fibonacci multiply spreads every bit to the top ones.
        let mask = self.slots.len() - 1;
        let mut at = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let slot = self.slots[at];
            if slot.row == NO_ROW || slot.key == key {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// The row of `key`, or [`NO_ROW`].
    pub fn get(&self, key: u64) -> u32 {
        self.slots[self.probe(key)].row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        let keys: Vec<u64> = (0..1000u64).map(|k| k * 0x1_0000_0001).collect();
        let index = RowIndex::with_keys(keys.iter().copied());
        for (row, key) in keys.iter().enumerate() {
            assert_eq!(index.get(*key), row as u32);
        }
        assert_eq!(index.get(7), NO_ROW);
        assert_eq!(RowIndex::default().get(0), NO_ROW);
    }
}
