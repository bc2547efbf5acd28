//! Human durations in config files: "500ms", "30s", "10m", "2h", "1d".

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// A duration written the way people write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn parse(text: &str) -> Result<HumanDuration, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{text}` needs a unit (ms, s, m, h, d)"))?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration like 30s or 10m"))?;
        let millis = match unit.trim() {
            "ms" => n,
            "s" => n * 1_000,
            "m" | "min" => n * 60_000,
            "h" => n * 3_600_000,
            "d" => n * 86_400_000,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}` (ms, s, m, h, d)"
                ))
            }
        };
        Ok(HumanDuration(Duration::from_millis(millis)))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HumanDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let unit = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ]
        .into_iter()
        .find(|(size, _)| ms > 0 && ms.is_multiple_of(*size));
        match unit {
            Some((size, name)) => write!(f, "{}{name}", ms / size),
            None => write!(f, "{ms}ms"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_people_write() {
        let cases = [
            ("millis", "500ms", 500),
            ("seconds", "30s", 30_000),
            ("minutes", "10m", 600_000),
            ("hours", "2h", 7_200_000),
            ("days", "1d", 86_400_000),
            ("zero", "0s", 0),
        ];
        for (name, text, ms) in cases {
            assert_eq!(
                HumanDuration::parse(text).unwrap().0,
                Duration::from_millis(ms),
                "{name}"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for text in ["30", "s", "3 weeks", "-1s", "1.5h"] {
            assert!(HumanDuration::parse(text).is_err(), "{text}");
        }
    }
}
