//! Script detection: zh-Hant when the text uses Traditional characters or Cantonese
//! particles, zh-Hans otherwise (also the default for text with no Chinese at all).

use super::normalize::Normalized;
use crate::domain::Lang;

/// Cantonese-only characters: unchanged by Traditional → Simplified conversion, yet written
/// almost only in Hong Kong Traditional text.
const CANTONESE_MARKERS: &[char] = &[
    '嘅', '咗', '冇', '喺', '哋', '嚟', '啱', '嗰', '咁', '唔', '噉', '佢', '乜', '嘢',
];

/// Decides the script of a message.
///
/// A few Traditional characters turn up in Simplified text (a quoted book title, a name), so
/// one is decisive only in a short text; otherwise they must be at least 4 % of the Han
/// characters (real Traditional text has 20 % and more).
pub fn detect(original: &str, normalized: &Normalized) -> Lang {
    let changed = normalized.traditional_chars;
    let cantonese = original
        .chars()
        .filter(|c| CANTONESE_MARKERS.contains(c))
        .count();
    let hant = cantonese > 0
        || (changed >= 1 && normalized.han_chars <= 20)
        || (changed >= 1 && changed * 25 >= normalized.han_chars);
    if hant {
        Lang::Hant
    } else {
        Lang::Hans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_script() {
        let cases = [
            ("simplified", "订单还没发货", Lang::Hans),
            ("traditional taiwan", "訂單還沒出貨", Lang::Hant),
            (
                "cantonese without traditional characters",
                "冇收到",
                Lang::Hant,
            ),
            ("latin only defaults to simplified", "ok", Lang::Hans),
            ("emoji only defaults to simplified", "👍👍", Lang::Hans),
            ("empty defaults to simplified", "", Lang::Hans),
            ("laughter folded by the converter is not traditional", "呵呵，还不错", Lang::Hans),
            ("one stray traditional character in a long simplified text", "这款手机壳手感很好，朋友說很好看，颜色也正，物流很快，包装很仔细，已经推荐给同事了", Lang::Hans),
        ];
        for (name, text, expected) in cases {
            assert_eq!(detect(text, &Normalized::new(text)), expected, "{name}");
        }
    }
}
