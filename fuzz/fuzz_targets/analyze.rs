#![no_main]
//! The analyzer on arbitrary UTF-8, with cheap invariants on its output and on its work
//! (steps per input character, see `STEPS_PER_CHAR_BOUND`).
use anfu::analysis::Analyzer;
use anfu::domain::labels::Lang;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| {
        Analyzer::from_dir(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../intents"
        )))
        .expect("the real intents/ load")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, steps) = analyzer().analyze_counting(text);
    let chars: Vec<char> = text.chars().collect();
    // Linear work: a pass over every cue per hit (quadratic) breaks this within a few
    // hundred characters of repeated terms.
    let bound = anfu::analysis::cue_index::STEPS_PER_CHAR_BOUND * (chars.len() as u64 + 1);
    assert!(steps <= bound, "{steps} steps for {} chars", chars.len());
    assert!(matches!(a.lang, Lang::Hans | Lang::Hant));
    assert!(a.intensity <= 3, "intensity {}", a.intensity);
    for e in &a.evidence {
        assert!(
            e.start <= e.end && e.end <= chars.len(),
            "span {e:?} in {} chars",
            chars.len()
        );
        let span: String = chars[e.start..e.end].iter().collect();
        assert_eq!(span, e.text, "evidence text is the original span");
    }
    if let Some(id) = &a.order_id {
        assert!(text.contains(id.as_str()), "order id {id:?} is in the text");
    }
});
