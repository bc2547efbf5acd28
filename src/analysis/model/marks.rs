//! Punctuation, emoji and repetition: how a message is typed, which says much about mood
//! ("！！！", "？？？", "。。。", "啊啊啊", 😡) and little about topic.

use crate::analysis::normalize::is_han;

/// One kind of mark: its name, how often it occurs, and the span of its first run.
pub type MarkRun = (&'static str, usize, Option<(usize, usize)>);

/// Counts of typing marks in one message.
#[derive(Debug, Default, Clone)]
pub struct Marks {
    /// Characters in the message.
    pub chars: usize,
    /// Lines (a burst of chat lines joined with line breaks).
    pub lines: usize,
    exclamations: Run,
    questions: Run,
    ellipses: Run,
    emoji: Run,
    repeats: Run,
    tildes: Run,
}

/// How many times a mark occurs, and the first span it occurs in.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    count: usize,
    first: Option<(usize, usize)>,
}

impl Run {
    fn add(&mut self, start: usize, end: usize) {
        self.count += 1;
        self.first.get_or_insert((start, end));
    }
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F300..=0x1FAFF | 0x2600..=0x27BF)
}

impl Marks {
    /// Reads the marks of a (width-folded) text.
    pub fn new(text: &str) -> Marks {
        let mut m = Marks {
            lines: 1,
            ..Marks::default()
        };
        // One pass over the chars, no copy: each run of one char is read when it ends.
        let mut run: Option<(char, usize)> = None;
        let mut i = 0;
        for c in text.chars() {
            match run {
                Some((same, _)) if same == c => {}
                _ => {
                    if let Some((previous, start)) = run {
                        m.add_run(previous, start, i);
                    }
                    run = Some((c, i));
                }
            }
            i += 1;
        }
        if let Some((last, start)) = run {
            m.add_run(last, start, i);
        }
        m.chars = i;
        m
    }

    /// Counts the run of `c` over chars `i..j`.
    fn add_run(&mut self, c: char, i: usize, j: usize) {
        let run = j - i;
        // Most runs are one Han character, which is no mark: skip the comparisons.
        if run < 3 && is_han(c) {
            return;
        }
        match c {
            '!' => self.exclamations.add(i, j),
            '?' => self.questions.add(i, j),
            '…' => self.ellipses.add(i, j),
            '。' | '.' if run >= 2 => self.ellipses.add(i, j),
            '~' | '～' => self.tildes.add(i, j),
            '\n' => self.lines += run,
            c if is_emoji(c) => self.emoji.add(i, j),
            c if run >= 3 && !c.is_ascii_digit() && !c.is_whitespace() => self.repeats.add(i, j),
            _ => {}
        }
        // A run of marks counts by its length: "!!!" is three.
        match c {
            '!' => self.exclamations.count += run - 1,
            '?' => self.questions.count += run - 1,
            _ => {}
        }
    }

    /// `(name, count, first span)` of each mark.
    pub fn runs(&self) -> [MarkRun; 6] {
        let r = |name, run: &Run| (name, run.count, run.first);
        [
            r("!", &self.exclamations),
            r("?", &self.questions),
            r("…", &self.ellipses),
            r("emoji", &self.emoji),
            r("repeat", &self.repeats),
            r("~", &self.tildes),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::Marks;

    #[test]
    fn runs_count_by_length_and_remember_where_they_start() {
        let m = Marks::new("什么鬼!!!\n还不发货??。。。😡😡");
        let runs = m.runs();
        assert_eq!((runs[0].1, runs[0].2), (3, Some((3, 6))));
        assert_eq!(runs[1].1, 2);
        assert_eq!(runs[2].1, 1);
        assert_eq!(runs[3].1, 1);
        assert_eq!(m.lines, 2);
    }
}
