//! Masks personal data in any text that leaves the service through a sink: mainland mobile
//! numbers (`138****5678`, also written with spaces, dashes or a +86 prefix), landlines
//! (`0571-****5678`) and street addresses (the province and city stay, the rest becomes
//! `****`). Long digit runs such as 18–19 digit order numbers are left alone: a phone number
//! must not touch another digit on either side.

use regex::Regex;
use std::sync::LazyLock;

/// The masking patterns, compiled once. They are checked when the service starts
/// ([`check`]), so a pattern the build cannot compile (a regex feature missing from the
/// release build once made every card panic) stops the start with a message instead.
struct Patterns {
    mobile: Regex,
    landline: Regex,
    address_with_region: Regex,
    address_bare: Regex,
}

const PROVINCES: &str = "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门";

/// A street-level piece of an address, ending in one of its markers.
const SEGMENT: &str = r"[\p{Han}A-Za-z0-9#\-]{1,12}?(?:街道|大道|号楼|号院|小区|花园|公寓|大厦|单元|区|县|镇|乡|路|街|巷|弄|号|苑|村|栋|幢|座|楼|层|室)";

impl Patterns {
    fn compile() -> Result<Patterns, regex::Error> {
        let province = format!(
            r"(?:{PROVINCES})(?:壮族自治区|回族自治区|维吾尔自治区|特别行政区|自治区|省|市)?"
        );
        let city = r"\p{Han}{2,4}?(?:自治州|地区|盟|市)";
        let region = format!(r"(?:{province}(?:{city})?|{city})");
        Ok(Patterns {
            mobile: Regex::new(r"(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})")?,
            landline: Regex::new(r"(0\d{2,3})[ -](\d{3,4})(\d{4})")?,
            // Province and/or city kept, followed by street-level segments (masked).
            address_with_region: Regex::new(&format!(
                r"(?P<keep>{region})(?P<rest>(?:{SEGMENT})+)"
            ))?,
            // No region: a street or community name followed by a numbered detail (masked
            // whole).
            address_bare: Regex::new(
                r"[\p{Han}&&[^到至送寄在是址往发的]]{1,8}?(?:路|街|巷|弄|小区|花园|村)[A-Za-z0-9#\-\p{Han}]{0,8}?\d+(?:号楼|号院|单元|号|栋|幢|座|楼|层|室)(?:[A-Za-z0-9#\-]*\d+(?:单元|号|栋|幢|座|楼|层|室))*",
            )?,
        })
    }
}

static PATTERNS: LazyLock<Result<Patterns, regex::Error>> = LazyLock::new(Patterns::compile);

/// Compiles the masking patterns; the service refuses to start when they do not compile.
pub fn check() -> Result<(), String> {
    PATTERNS
        .as_ref()
        .map(|_| ())
        .map_err(|e| format!("the card masking patterns do not compile in this build: {e}"))
}

/// Everything that leaves the service goes through here.
pub fn mask(text: &str) -> String {
    let Ok(patterns) = PATTERNS.as_ref() else {
        // Unreachable after a successful start ([`check`]); leak nothing either way.
        return "****".to_string();
    };
    let text = mask_phones(patterns, text);
    mask_addresses(patterns, &text)
}

fn touches_digit(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit())
}

fn mask_phones(p: &Patterns, text: &str) -> String {
    let text = replace_isolated(text, &p.mobile, |c| format!("{}****{}", &c[1], &c[3]));
    replace_isolated(&text, &p.landline, |c| format!("{}-****{}", &c[1], &c[3]))
}

/// Replaces the matches of `re` that do not touch another digit.
fn replace_isolated(text: &str, re: &Regex, f: impl Fn(&regex::Captures) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        if touches_digit(text, m.start(), m.end()) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(&f(&caps));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

fn mask_addresses(p: &Patterns, text: &str) -> String {
    let text = p
        .address_with_region
        .replace_all(text, |c: &regex::Captures| {
            let keep = c.name("keep").map_or("", |m| m.as_str());
            format!("{keep}****")
        });
    p.address_bare.replace_all(&text, "****").into_owned()
}

#[cfg(test)]
mod tests {
    use super::{check, mask};

    /// Every pattern compiles with the regex features of this build (the test build has
    /// exactly the features the release build has: no dev-dependency names regex).
    #[test]
    fn the_patterns_compile_in_this_build() {
        assert_eq!(check(), Ok(()));
    }

    #[test]
    fn masks_personal_data_and_leaves_the_rest() {
        let cases: &[(&str, &str, &str)] = &[
            ("mobile", "电话13812345678", "电话138****5678"),
            (
                "mobile with spaces",
                "打138 1234 5678找我",
                "打138****5678找我",
            ),
            (
                "mobile with dashes",
                "tel: 139-8765-4321.",
                "tel: 139****4321.",
            ),
            ("mobile with +86", "+86 15912345678", "159****5678"),
            (
                "two mobiles",
                "13812345678或18600001111",
                "138****5678或186****1111",
            ),
            ("landline", "座机0571-88886666", "座机0571-****6666"),
            (
                "order number 18 digits",
                "订单号123456789012345678",
                "订单号123456789012345678",
            ),
            (
                "order number 19 digits starting like a phone",
                "订单1381234567812345678到了吗",
                "订单1381234567812345678到了吗",
            ),
            ("12 digits is not a phone", "138123456789", "138123456789"),
            ("not a mobile prefix", "12812345678", "12812345678"),
            (
                "full address",
                "寄到广东省深圳市南山区科技园路1号阳光小区3栋2单元501室，谢谢",
                "寄到广东省深圳市****，谢谢",
            ),
            (
                "municipality",
                "地址：上海市浦东新区世纪大道100号",
                "地址：上海市****",
            ),
            ("city only", "杭州市西湖区文三路90号", "杭州市****"),
            ("bare street address", "送到文三路90号2幢301室", "送到****"),
            (
                "no address words",
                "质量太差了，我要退款",
                "质量太差了，我要退款",
            ),
            (
                "order word is not an address",
                "订单号是多少",
                "订单号是多少",
            ),
            (
                "phone and address together",
                "收件人张三 13812345678 北京市朝阳区建国路88号",
                "收件人张三 138****5678 北京市****",
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(mask(input), *expected, "case: {name}");
        }
    }
}
