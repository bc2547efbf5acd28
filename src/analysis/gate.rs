//! Literal gates for regex patterns: most patterns can only match where one of a few literal
//! words occurs (`越来越(?:差|难吃)` needs `越来越`; `(?:刚买|买完)…降价` needs `刚买` or
//! `买完`). One Aho-Corasick pass over all such words tells which patterns are worth running,
//! so a message pays only for the few patterns that could match it.

/// Literals of which at least one occurs in every match of `pattern`, or `None` when the
/// pattern offers no such set (then it always runs). Conservative: when in doubt, `None`.
pub fn required_literals(pattern: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = pattern.chars().collect();
    let branches = split_top_level(&chars)?;
    let mut all = Vec::new();
    for branch in branches {
        all.extend(branch_requirement(branch)?);
    }
    all.sort();
    all.dedup();
    Some(all)
}

/// Splits at `|` outside groups and classes; `None` on unbalanced input.
fn split_top_level(chars: &[char]) -> Option<Vec<&[char]>> {
    let (mut depth, mut in_class, mut escaped, mut start) = (0i32, false, false, 0);
    let mut out = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth -= 1,
            '|' if !in_class && depth == 0 => {
                out.push(&chars[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    if depth != 0 || in_class {
        return None;
    }
    out.push(&chars[start..]);
    Some(out)
}

/// Every literal set a pattern requires, all at once: a text can only match if, for each set,
/// it contains one of its literals. Stricter than [`required_literals`] (which keeps the best
/// set only); patterns with top-level alternation fall back to that one set.
pub fn required_groups(pattern: &str) -> Option<Vec<Vec<String>>> {
    let chars: Vec<char> = pattern.chars().collect();
    let branches = split_top_level(&chars)?;
    if let [branch] = branches.as_slice() {
        let mut groups = Vec::new();
        branch_requirement_into(branch, &mut groups)?;
        groups.retain(|g| !g.is_empty());
        for g in &mut groups {
            g.sort();
            g.dedup();
        }
        if !groups.is_empty() {
            return Some(groups);
        }
    }
    required_literals(pattern).map(|set| vec![set])
}

/// The best required literal set of one alternation branch.
fn branch_requirement(branch: &[char]) -> Option<Vec<String>> {
    branch_requirement_into(branch, &mut Vec::new())
}

/// Like [`branch_requirement`], also collecting every required set into `all`.
fn branch_requirement_into(branch: &[char], all: &mut Vec<Vec<String>>) -> Option<Vec<String>> {
    let mut best: Option<Vec<String>> = None;
    let mut run = String::new();
    let mut consider = |candidate: Vec<String>, best: &mut Option<Vec<String>>| {
        let quality = |set: &Vec<String>| set.iter().map(|s| s.chars().count()).min().unwrap_or(0);
        if candidate.is_empty() || quality(&candidate) == 0 {
            return;
        }
        all.push(candidate.clone());
        let better = match best {
            None => true,
            Some(b) => {
                (quality(&candidate), std::cmp::Reverse(candidate.len()))
                    > (quality(b), std::cmp::Reverse(b.len()))
            }
        };
        if better {
            *best = Some(candidate);
        }
    };
    let mut i = 0;
    while i < branch.len() {
        let (item_end, literal, group) = read_item(branch, i)?;
        let optional = matches!(branch.get(item_end), Some('?' | '*'))
            || (branch.get(item_end) == Some(&'{') && branch.get(item_end + 1) == Some(&'0'));
        let next = skip_quantifier(branch, item_end);
        let repeated = next != item_end;
        match (literal, group) {
            (Some(c), _) if !optional && !repeated => run.push(c),
            (Some(c), _) if !optional => {
                // `a+` requires one `a`, but the run of literals ends here.
                run.push(c);
                consider(vec![std::mem::take(&mut run)], &mut best);
            }
            (_, Some(inner)) if !optional => {
                consider(vec![std::mem::take(&mut run)], &mut best);
                if let Some(set) = required_literals(&inner) {
                    consider(set, &mut best);
                }
            }
            _ => consider(vec![std::mem::take(&mut run)], &mut best),
        }
        i = next;
    }
    consider(vec![run], &mut best);
    best
}

/// Reads one item at `i`: returns its end, the literal char it is (if any), and the inner
/// pattern of a group (if it is one).
fn read_item(s: &[char], i: usize) -> Option<(usize, Option<char>, Option<String>)> {
    match s[i] {
        '\\' => {
            let c = *s.get(i + 1)?;
            let literal = (!c.is_ascii_alphanumeric()).then_some(c);
            // `\x{4e00}`, `\p{Han}` and friends run to the closing brace.
            if s.get(i + 2) == Some(&'{') {
                let close = s[i..].iter().position(|&c| c == '}')? + i;
                return Some((close + 1, None, None));
            }
            Some((i + 2, literal, None))
        }
        '[' => {
            let mut j = i + 1;
            if s.get(j) == Some(&']') {
                j += 1;
            }
            let mut escaped = false;
            let mut depth = 1;
            while j < s.len() {
                match s[j] {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Some((j + 1, None, None))
        }
        '(' => {
            let (mut depth, mut j, mut escaped, mut in_class) = (0, i, false, false);
            while j < s.len() {
                match s[j] {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '[' => in_class = true,
                    ']' => in_class = false,
                    '(' if !in_class => depth += 1,
                    ')' if !in_class => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let mut inner: String = s[i + 1..j].iter().collect();
            if let Some(rest) = inner.strip_prefix("?:") {
                inner = rest.to_string();
            } else if inner.starts_with('?') {
                // Look-around, flags or named groups: not worth understanding here.
                return Some((j + 1, None, None));
            }
            Some((j + 1, None, Some(inner)))
        }
        '.' | '^' | '$' => Some((i + 1, None, None)),
        c => Some((i + 1, Some(c), None)),
    }
}

fn skip_quantifier(s: &[char], mut i: usize) -> usize {
    match s.get(i) {
        Some('?' | '*' | '+') => i += 1,
        Some('{') => {
            while i < s.len() && s[i] != '}' {
                i += 1;
            }
            i += 1;
        }
        _ => return i,
    }
    if s.get(i) == Some(&'?') {
        i += 1; // lazy
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str) -> Option<Vec<String>> {
        required_literals(p)
    }

    #[test]
    fn finds_what_every_match_needs() {
        let cases: &[(&str, &str, Option<&[&str]>)] = &[
            ("a plain literal", "越来越差", Some(&["越来越差"])),
            (
                "literal before a group",
                "越来越(?:差|难吃)",
                Some(&["越来越"]),
            ),
            (
                "a group of alternatives",
                "(?:刚买|买完)[^,]{0,8}(?:降|减)",
                Some(&["买完", "刚买"]),
            ),
            (
                "the single longer literal is preferred",
                "(?:刚买|买完)[^,]{0,8}降价",
                Some(&["降价"]),
            ),
            (
                "top-level alternation unions branches",
                "降价了|便宜了",
                Some(&["便宜了", "降价了"]),
            ),
            (
                "an optional literal is not required",
                "好?差",
                Some(&["差"]),
            ),
            (
                "a repeated group keeps its set",
                "(?:很|太)+差劲",
                Some(&["差劲"]),
            ),
            ("a class offers nothing", "[一二三]个", Some(&["个"])),
            ("nothing literal at all", r"\d+[a-z]", None),
            (
                "an optional group is skipped",
                "(?:很)?难吃",
                Some(&["难吃"]),
            ),
            (
                "an escaped question mark is literal",
                r"这叫[^,]{0,8}\?",
                Some(&["这叫"]),
            ),
            (
                "look-around gives up on that group",
                "(?=x)坏",
                Some(&["坏"]),
            ),
            (
                "unicode escapes are not literals",
                r"[\x{4e00}-\x{9fff}]{0,3}一般",
                Some(&["一般"]),
            ),
            (
                "a branch without literals disables the gate",
                r"坏了|\d+",
                None,
            ),
        ];
        for (name, pattern, expected) in cases {
            let got = req(pattern);
            let expected: Option<Vec<String>> =
                expected.map(|v| v.iter().map(|s| s.to_string()).collect());
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn every_required_set_is_collected() {
        type Case<'a> = (&'a str, &'a str, Option<Vec<Vec<&'a str>>>);
        let cases: &[Case] = &[
            (
                "three required groups",
                "(用了|才用)[^。]{0,10}(就|又)(坏|断)",
                Some(vec![
                    vec!["才用", "用了"],
                    vec!["又", "就"],
                    vec!["坏", "断"],
                ]),
            ),
            (
                "optional groups are left out",
                "(用了)?(就|又)?坏了",
                Some(vec![vec!["坏了"]]),
            ),
            (
                "top-level alternation falls back to one set",
                "降价了|便宜了",
                Some(vec![vec!["便宜了", "降价了"]]),
            ),
            ("nothing required", "[0-9]+", None),
        ];
        for (name, pattern, want) in cases {
            let want: Option<Vec<Vec<String>>> = want.as_ref().map(|groups| {
                groups
                    .iter()
                    .map(|g| g.iter().map(|s| s.to_string()).collect())
                    .collect()
            });
            assert_eq!(required_groups(pattern), want, "{name}");
        }
    }
}
