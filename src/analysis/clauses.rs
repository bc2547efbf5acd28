//! Clause and sentence structure, and punctuation bursts, read straight off the characters.
//!
//! Rules are scoped: a negation reaches only within its clause (up to a comma), a contrast
//! word re-weights the rest of its sentence (up to a full stop, question mark, exclamation
//! mark or line break: bursts of chat lines are separate sentences).

/// Per-char clause and sentence numbers plus punctuation counts.
#[derive(Debug, Clone)]
pub struct Structure {
    clause: Vec<u32>,
    sentence: Vec<u32>,
    /// Where each clause starts (char offset), by clause number.
    clause_starts: Vec<usize>,
    /// How many question marks or question particles (`?`, `吗`, `么`) come before each char.
    asks_before: Vec<u32>,
    /// Runs of two or more `!` (after width folding).
    pub exclamation_runs: usize,
    /// The longest run of `!`.
    pub longest_exclamation: usize,
    /// Runs of two or more `?`.
    pub question_runs: usize,
    /// Whether the text contains a `?` at all.
    pub has_question_mark: bool,
    /// Whether the text contains a `!` at all.
    pub has_exclamation: bool,
    /// Whether the text has any word character (Han, letter, digit), not just emoji and marks.
    pub has_words: bool,
}

fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '!' | '?' | '\n' | '\r' | '…' | '｡')
}

fn ends_clause(c: char) -> bool {
    ends_sentence(c)
        || c.is_whitespace()
        || matches!(
            c,
            ',' | '，'
                | ';'
                | '；'
                | ':'
                | '：'
                | '、'
                | '~'
                | '～'
                | '('
                | ')'
                | '（'
                | '）'
                | '「'
                | '」'
                | '"'
                | '“'
                | '”'
                | '/'
        )
}

impl Structure {
    /// Reads the structure of normalised text.
    pub fn new(text: &str) -> Structure {
        let mut clause = Vec::with_capacity(text.len() / 2);
        let mut sentence = Vec::with_capacity(text.len() / 2);
        let mut clause_starts = vec![0];
        let mut asks_before = Vec::with_capacity(text.len() / 2 + 1);
        let mut asks = 0u32;
        let (mut c_id, mut s_id) = (0u32, 0u32);
        let (mut run_char, mut run_len) = ('\0', 0usize);
        let mut s = Structure {
            clause: Vec::new(),
            sentence: Vec::new(),
            clause_starts: Vec::new(),
            asks_before: Vec::new(),
            exclamation_runs: 0,
            longest_exclamation: 0,
            question_runs: 0,
            has_question_mark: false,
            has_exclamation: false,
            has_words: false,
        };
        let close_run = |c: char, len: usize, s: &mut Structure| {
            if c == '!' {
                s.longest_exclamation = s.longest_exclamation.max(len);
                if len >= 2 {
                    s.exclamation_runs += 1;
                }
            } else if c == '?' && len >= 2 {
                s.question_runs += 1;
            }
        };
        for ch in text.chars() {
            // Punctuation belongs to the clause it closes; the next char starts a new one.
            clause.push(c_id);
            sentence.push(s_id);
            asks_before.push(asks);
            asks += u32::from(matches!(ch, '?' | '吗' | '么'));
            if ends_clause(ch) {
                c_id += 1;
                clause_starts.push(clause.len());
            }
            if ends_sentence(ch) {
                s_id += 1;
            }
            s.has_question_mark |= ch == '?';
            s.has_exclamation |= ch == '!';
            s.has_words |= ch.is_alphanumeric();
            if ch == run_char {
                run_len += 1;
            } else {
                close_run(run_char, run_len, &mut s);
                run_char = ch;
                run_len = 1;
            }
        }
        close_run(run_char, run_len, &mut s);
        asks_before.push(asks);
        s.clause = clause;
        s.sentence = sentence;
        s.clause_starts = clause_starts;
        s.asks_before = asks_before;
        s
    }

    /// The clause number of char `i` (None past the end).
    pub fn clause_of(&self, i: usize) -> Option<u32> {
        self.clause.get(i).copied()
    }

    /// Where the clause of char `i` ends: the offset of the next clause's first char (or the
    /// text's length); `i` itself when `i` is past the end.
    pub fn clause_end(&self, i: usize) -> usize {
        let len = self.clause.len();
        match self.clause_of(i) {
            Some(c) => self
                .clause_starts
                .get(c as usize + 1)
                .copied()
                .unwrap_or(len)
                .min(len),
            None => i,
        }
    }

    /// Whether chars `from..to` hold a question mark or particle (`?`, `吗`, `么`).
    pub fn asks_within(&self, from: usize, to: usize) -> bool {
        let at = |i: usize| self.asks_before[i.min(self.asks_before.len() - 1)];
        from < to && at(to) > at(from)
    }

    /// Whether chars `a` and `b` (offsets) lie in one clause.
    pub fn same_clause(&self, a: usize, b: usize) -> bool {
        self.clause.get(a) == self.clause.get(b)
    }

    /// The sentence number of char `i` (the last sentence for offsets past the end).
    pub fn sentence_of(&self, i: usize) -> u32 {
        self.sentence
            .get(i)
            .or(self.sentence.last())
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clauses_sentences_and_bursts() {
        let s = Structure::new("不是质量问题,就是小了!!!\n退吗??");
        assert!(s.same_clause(0, 3));
        assert!(!s.same_clause(0, 8));
        assert_eq!(s.sentence_of(0), s.sentence_of(8));
        assert_ne!(s.sentence_of(0), s.sentence_of(16));
        assert_eq!(s.exclamation_runs, 1);
        assert_eq!(s.longest_exclamation, 3);
        assert_eq!(s.question_runs, 1);
        assert!(s.has_question_mark);
        assert_eq!(s.clause_of(3), Some(0));
        assert_eq!(s.clause_of(7), Some(1));
        assert_eq!(s.clause_end(0), 7);
        assert_eq!(s.clause_end(99), 99);
        assert!(s.asks_within(14, 17));
        assert!(!s.asks_within(0, 14));
    }
}
