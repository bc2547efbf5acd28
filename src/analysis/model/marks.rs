//! Punctuation, emoji and repetition: how a message is typed, which says much about mood
//! ("！！！", "？？？", "。。。", "啊啊啊", 😡) and little about topic.

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
        // One pass over the chars, no copy: a run is a char and how many times it repeats.
        let mut chars = text.chars().peekable();
        let mut i = 0;
        while let Some(c) = chars.next() {
            let mut j = i + 1;
            while chars.next_if_eq(&c).is_some() {
                j += 1;
            }
            let run = j - i;
            match c {
                '!' => m.exclamations.add(i, j),
                '?' => m.questions.add(i, j),
                '…' => m.ellipses.add(i, j),
                '。' | '.' if run >= 2 => m.ellipses.add(i, j),
                '~' | '～' => m.tildes.add(i, j),
                '\n' => m.lines += run,
                c if is_emoji(c) => m.emoji.add(i, j),
                c if run >= 3 && !c.is_ascii_digit() && !c.is_whitespace() => m.repeats.add(i, j),
                _ => {}
            }
            // A run of marks counts by its length: "!!!" is three.
            if matches!(c, '!' | '?') {
                let r = if c == '!' {
                    &mut m.exclamations
                } else {
                    &mut m.questions
                };
                r.count += run - 1;
            }
            i = j;
        }
        m.chars = i;
        m
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
