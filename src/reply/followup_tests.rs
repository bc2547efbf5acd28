//! The follow-up file: answers read by their words, and invitations that offer anything for
//! a review refused at load with file and line.

use super::tests::marked_dir;
use super::{FollowupAnswer, ReplyBook};
use std::fs;

fn book() -> ReplyBook {
    ReplyBook::from_dir(std::path::Path::new("replies")).expect("shipped replies load")
}

#[test]
fn answers_are_read_by_their_longest_words() {
    let book = book();
    for (text, want) in [
        ("好了，解决了", FollowupAnswer::Satisfied),
        ("收到了 谢谢", FollowupAnswer::Satisfied),
        ("没有问题了", FollowupAnswer::Satisfied),
        ("沒問題，謝謝", FollowupAnswer::Satisfied),
        ("还没收到", FollowupAnswer::Unhappy),
        ("没有", FollowupAnswer::Unhappy),
        ("还是不行", FollowupAnswer::Unhappy),
        ("收到了但是还是坏的，不满意", FollowupAnswer::Unhappy),
        ("仲未搞掂", FollowupAnswer::Unhappy),
        ("请问明天发货吗", FollowupAnswer::Unclear),
    ] {
        assert_eq!(book.followup_answer(text), want, "{text}");
    }
}

#[test]
fn an_invitation_offering_anything_is_refused_with_its_line() {
    let shipped = include_str!("../../replies/followup.toml");
    for (word, file_text) in [
        (
            "返现",
            shipped.replacen("欢迎您留下真实的评价", "欢迎您留下评价，返现5元", 1),
        ),
        (
            "好评",
            shipped.replacen("欢迎您留下真实的评价", "欢迎您给个好评", 1),
        ),
        (
            "紅包",
            shipped.replacen("歡迎您留下真實的評價", "評價後送紅包", 1),
        ),
    ] {
        let dir = marked_dir();
        let path = dir.path().join("followup.toml");
        let line = file_text
            .lines()
            .position(|l| !l.starts_with('#') && l.contains(word))
            .expect("the changed line")
            + 1;
        fs::write(&path, &file_text).expect("write");
        let found = ReplyBook::from_dir(dir.path()).expect_err("refused");
        let text = found.to_string();
        let prefix = format!("{}:{line}:", path.display());
        assert!(
            text.contains(&prefix) && text.contains(word),
            "{word}: {text}"
        );
    }
}

#[test]
fn a_followup_file_without_its_parts_is_named() {
    let dir = marked_dir();
    let path = dir.path().join("followup.toml");
    fs::write(&path, "[zh-Hans]\nask = [\"解决了吗？\"]\ninvite = []\n").expect("write");
    let text = ReplyBook::from_dir(dir.path())
        .expect_err("refused")
        .to_string();
    for want in [
        "missing [zh-Hant]",
        "missing [answers]",
        "[zh-Hans] invite: empty list",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    fs::write(&path, "[zh-Hans]\nask = [\"{handoff_eta}\"]\n").expect("write");
    let text = ReplyBook::from_dir(dir.path())
        .expect_err("refused")
        .to_string();
    assert!(text.contains("followup.toml:"), "{text}");
}
