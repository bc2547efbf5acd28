//! The shipped `replies/` folder: every issue, mood and script answered, Traditional in
//! Traditional.

use super::*;

#[test]
fn reply_shipped_book_answers_every_issue_mood_and_lang() {
    let book = shipped();
    let mut moods: Vec<(Mood, &[Threat])> = Mood::ALL.iter().map(|m| (*m, &[][..])).collect();
    moods.push((Mood::Angry, &[Threat::Regulator]));
    for lang in Lang::ALL {
        for issue in IssueType::ALL {
            for (mood, threats) in &moods {
                for slots in [NO_ORDER, WITH_ORDER] {
                    let a = complaint(*issue, *mood, threats);
                    let text = book.reply(&a, *lang, &slots, "seed").unwrap_or_default();
                    let what = format!("{issue} × {mood} {threats:?} × {lang}");
                    assert!(!text.trim().is_empty(), "{what}: empty");
                    assert!(
                        !text.contains(['{', '}']),
                        "{what}: leftover slot in {text}"
                    );
                    assert!(
                        text.contains("2小时内"),
                        "{what}: no handoff time in {text}"
                    );
                }
            }
        }
        for intent in [Intent::Inquiry, Intent::Praise, Intent::Chitchat] {
            let a = analysis(intent, None, Mood::Calm, &[]);
            let text = book.reply(&a, *lang, &NO_ORDER, "seed").unwrap_or_default();
            assert!(
                !text.is_empty() && !text.contains('{'),
                "{intent} × {lang}: {text}"
            );
        }
    }
}

#[test]
fn reply_traditional_is_written_in_traditional() {
    let book = shipped();
    let hant = &book.langs[&Lang::Hant];
    let toggles = [&hant.inquiry, &hant.praise, &hant.chitchat];
    let variants = hant
        .complaint
        .values()
        .chain(toggles.iter().map(|t| &t.variants))
        .flatten();
    for template in variants {
        let text = template.render(&WITH_ORDER);
        // A variant pasted from the Simplified file would survive the conversion unchanged.
        assert_ne!(fast2s::convert(&text), text, "not Traditional: {text}");
        // 订/货/发/联 are Simplified-only forms; their Traditional twins are 訂/貨/發/聯.
        assert!(!text.contains(['订', '货', '发', '联']), "{text}");
    }
}
