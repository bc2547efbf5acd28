//! Normalisation: one character in, one character out, so spans found in the normalised
//! text are spans of the original text too.
//!
//! Matching happens on a folded form: full-width ASCII → half-width, the ideographic space →
//! space, Latin lower-cased, Traditional → Simplified (fast2s, context-aware for the few
//! ambiguous characters). Because every step maps exactly one `char` to one `char`, a char
//! offset in the normalised text is the same char offset in the original text.

/// Characters fast2s folds to another form although Simplified text uses them too (`呵呵` →
/// `嗬嗬`, `黏`, `著` in 显著, `乾` in 乾隆): folded for matching, but no sign of Traditional script.
const NOT_TRADITIONAL: &[char] = &['呵', '黏', '呱', '著', '乾', '於', '隻', '餘'];

/// A message prepared for matching.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The folded text that dictionaries are matched against.
    pub text: String,
    /// Byte offset of every char of `text`, plus `text.len()` at the end.
    char_starts: Vec<usize>,
    /// How many Han characters the original text has.
    pub han_chars: usize,
    /// How many characters the Traditional → Simplified step changed.
    pub traditional_chars: usize,
}

impl Normalized {
    /// Folds `original` for matching.
    pub fn new(original: &str) -> Normalized {
        let mut width_folded = String::with_capacity(original.len());
        let mut han_chars = 0;
        for c in original.chars() {
            if is_han(c) {
                han_chars += 1;
            }
            width_folded.push(fold_width_and_case(c));
        }
        let text = fast2s::convert(&width_folded);
        let traditional_chars = width_folded
            .chars()
            .zip(text.chars())
            .filter(|(before, after)| before != after && !NOT_TRADITIONAL.contains(before))
            .count();
        let mut char_starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        char_starts.push(text.len());
        Normalized {
            text,
            char_starts,
            han_chars,
            traditional_chars,
        }
    }

    /// Number of chars (equal in the original and the normalised text).
    pub fn char_len(&self) -> usize {
        self.char_starts.len() - 1
    }

    /// The char offset of a byte offset of `text` (which must be a char boundary).
    pub fn char_at_byte(&self, byte: usize) -> usize {
        self.char_starts.partition_point(|&b| b < byte)
    }

    /// The byte offset of a char offset of `text`.
    pub fn byte_at_char(&self, char_index: usize) -> usize {
        self.char_starts[char_index.min(self.char_len())]
    }

    /// The normalised chars `start..end` (char offsets).
    pub fn slice(&self, start: usize, end: usize) -> &str {
        &self.text[self.byte_at_char(start)..self.byte_at_char(end)]
    }
}

/// Full-width ASCII and the ideographic space to half-width; ASCII letters to lower case.
/// Non-ASCII case mapping is left alone because it can change the number of chars.
pub fn fold_width_and_case(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.to_ascii_lowercase()
}

/// Folds a dictionary term exactly like a message, so both meet in the same form.
pub fn normalize_term(term: &str) -> String {
    Normalized::new(term.trim()).text
}

/// CJK unified ideographs (basic block and extension A) and compatibility ideographs.
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_one_char_per_char() {
        let cases = [
            ("full-width digits and letters", "ＳＦ１２３", "sf123"),
            ("full-width punctuation", "好吗？！", "好吗?!"),
            ("ideographic space", "在吗\u{3000}亲", "在吗 亲"),
            (
                "traditional to simplified",
                "質量太差，退貨",
                "质量太差,退货",
            ),
            ("cantonese characters survive", "冇收到嘅", "冇收到嘅"),
            ("emoji untouched", "😡🙄", "😡🙄"),
        ];
        for (name, input, expected) in cases {
            let n = Normalized::new(input);
            assert_eq!(n.text, expected, "{name}");
            assert_eq!(n.char_len(), input.chars().count(), "{name}");
        }
    }

    #[test]
    fn counts_traditional_characters() {
        assert_eq!(Normalized::new("訂單還沒出貨").traditional_chars, 5);
        assert_eq!(Normalized::new("订单还没发货").traditional_chars, 0);
    }

    #[test]
    fn byte_and_char_offsets_agree() {
        let n = Normalized::new("a退款b");
        assert_eq!(n.char_at_byte(1), 1);
        assert_eq!(n.char_at_byte(7), 3);
        assert_eq!(n.byte_at_char(3), 7);
        assert_eq!(n.slice(1, 3), "退款");
    }
}
