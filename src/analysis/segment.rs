//! Word segmentation with jieba-rs, every dictionary term added as a word, so that
//! segmentation keeps dictionary phrases whole and tells a one-character term that stands as
//! a word (`差`) from the same character inside another word (`差不多`).

use jieba_rs::Jieba;

/// One shared jieba instance with the dictionary terms added.
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Segmenter {
    /// jieba's default dictionary plus `terms`.
    pub fn new<'a>(terms: impl Iterator<Item = &'a str>) -> Segmenter {
        let mut jieba = Jieba::new();
        for term in terms {
            // Only words that segmentation could split need adding; one char is always whole.
            if term.chars().count() > 1 && !jieba.has_word(term) {
                jieba.add_word(term, None, None);
            }
        }
        Segmenter { jieba }
    }

    /// Word boundaries of `text` as a bitmap over char offsets (`len + 1` entries).
    pub fn boundaries(&self, text: &str, char_len: usize) -> Vec<bool> {
        let mut at = vec![false; char_len + 1];
        at[0] = true;
        for token in self.jieba.cut(text, false) {
            if token.end <= char_len {
                at[token.end] = true;
            }
        }
        at[char_len] = true;
        at
    }

    /// The raw jieba cut, for benchmarks that compare against segmentation alone.
    pub fn cut<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(text, false)
            .into_iter()
            .map(|t| t.word)
            .collect()
    }
}
