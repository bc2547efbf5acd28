//! The analyzer's work is linear in the text: the rules' steps (hits plus index probes, as
//! `Analyzer::analyze_counting` reports them) per character stay flat from 1 k to 100 k
//! characters, for one complaint phrase repeated (thousands of hits and cues) as for mixed
//! messages. Counted steps, not seconds: the bound holds on any machine.

use anfu::analysis::Analyzer;
use std::path::Path;

fn analyzer() -> Analyzer {
    Analyzer::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("intents")).expect("intents")
}

fn mixed() -> String {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/labelled/holdout.jsonl"),
    )
    .expect("holdout fixtures");
    raw.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n")
}

fn steps_per_char(analyzer: &Analyzer, source: &str, chars: usize) -> f64 {
    let text: String = source.chars().cycle().take(chars).collect();
    analyzer.analyze_counting(&text).1 as f64 / chars as f64
}

#[test]
fn work_per_character_stays_flat_as_texts_grow() {
    let analyzer = analyzer();
    let sources = [
        (
            "repeated complaint",
            "质量太差了，我要退货退款，不然就给差评！".to_string(),
        ),
        (
            "repeated negations",
            "不是不好不是差不满意不太行".to_string(),
        ),
        ("mixed messages", mixed()),
    ];
    for (name, source) in &sources {
        let small = steps_per_char(&analyzer, source, 1_000);
        let large = steps_per_char(&analyzer, source, 100_000);
        assert!(small > 0.0, "{name}: the rules did some work");
        assert!(
            large <= small * 1.5,
            "{name}: {small:.2} steps per char at 1 k, {large:.2} at 100 k: superlinear"
        );
    }
}

#[test]
fn a_repeated_phrase_costs_a_bounded_multiple_of_mixed_text() {
    let analyzer = analyzer();
    let repeated = steps_per_char(
        &analyzer,
        "质量太差了，我要退货退款，不然就给差评！",
        20_000,
    );
    let mixed = steps_per_char(&analyzer, &mixed(), 20_000);
    assert!(
        repeated <= mixed * 10.0,
        "repeated {repeated:.2} vs mixed {mixed:.2} steps per char"
    );
}

/// The bound the analyze fuzz target also asserts: with the shipped dictionaries the worst
/// text seen takes 2.5 steps per character (a run of `不錯`), so 32 leaves room for any
/// input while a pass per hit (quadratic) exceeds it within a few hundred characters.
#[test]
fn no_text_takes_more_than_the_fuzzed_bound_per_character() {
    let analyzer = analyzer();
    let mut texts: Vec<String> = mixed().lines().map(str::to_string).collect();
    for s in [
        "不",
        "不不",
        "不是",
        "差",
        "太",
        "但是",
        "退款",
        "吗",
        "？",
        "!",
        "不满意",
        "不錯",
    ] {
        texts.push(s.repeat(500));
    }
    for text in &texts {
        let chars = text.chars().count() as u64;
        let (_, steps) = analyzer.analyze_counting(text);
        assert!(
            steps <= anfu::analysis::cue_index::STEPS_PER_CHAR_BOUND * (chars + 1),
            "{steps} steps for {chars} chars: {}",
            text.chars().take(40).collect::<String>()
        );
    }
}
