//! A shop's business hours: when people answer. Outside them the auto-reply says when a
//! person will take over, and the SLA clock only runs while the shop is open.
//!
//! Written in the config as `hours = "mon-fri 09:00-18:00; sat 10:00-16:00"` with the shop's
//! `utc_offset = "+08:00"`. A fixed offset, not a zone name: the marketplaces' home
//! countries (China, Japan) have no daylight saving time, and it needs no zone database.

use serde::{Deserialize, Deserializer};
use std::fmt;

type Millis = i64;

const MINUTE: Millis = 60_000;
const DAY: Millis = 86_400_000;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Open windows per weekday (Monday first), in minutes after local midnight, sorted and
/// non-overlapping; at least one window in the week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    days: [Vec<(i64, i64)>; 7],
}

/// A UTC offset like "+08:00" or "-05:30".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset {
    pub minutes: i64,
}

impl UtcOffset {
    pub const CHINA: UtcOffset = UtcOffset { minutes: 8 * 60 };

    pub fn parse(text: &str) -> Result<UtcOffset, String> {
        let bad = || format!("`{text}` is not a UTC offset like +08:00");
        let t = text.trim();
        let (sign, rest) = match t.chars().next() {
            Some('+') => (1, &t[1..]),
            Some('-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = m.parse().map_err(|_| bad())?;
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(UtcOffset {
            minutes: sign * (h * 60 + m),
        })
    }

    fn ms(self) -> Millis {
        self.minutes * MINUTE
    }
}

impl Default for UtcOffset {
    fn default() -> Self {
        UtcOffset::CHINA
    }
}

impl<'de> Deserialize<'de> for UtcOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UtcOffset::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for BusinessHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BusinessHours::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

fn day_index(name: &str) -> Option<usize> {
    DAY_NAMES.iter().position(|d| *d == name)
}

fn clock(text: &str) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (m < 60 && minutes <= 24 * 60).then_some(minutes)
}

impl BusinessHours {
    /// `"mon-fri 09:00-18:00; sat 10:00-16:00"`: `;`-separated entries of days (`mon`…`sun`,
    /// a range `mon-fri`, or a list `sat,sun`) and a window `HH:MM-HH:MM` (`24:00` allowed as
    /// a close). A window over midnight is written as two entries.
    pub fn parse(text: &str) -> Result<BusinessHours, String> {
        let mut days: [Vec<(i64, i64)>; 7] = Default::default();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (day_part, window) = entry.rsplit_once(' ').ok_or_else(|| {
                format!("`{entry}`: expected days and a window, e.g. mon-fri 09:00-18:00")
            })?;
            let (open, close) = window
                .split_once('-')
                .and_then(|(o, c)| Some((clock(o)?, clock(c)?)))
                .ok_or_else(|| format!("`{entry}`: `{window}` is not a window like 09:00-18:00"))?;
            if open >= close {
                return Err(format!(
                    "`{entry}`: the window must close after it opens (write one over midnight as two entries)"
                ));
            }
            for part in day_part.to_ascii_lowercase().split(',').map(str::trim) {
                let unknown = |d: &str| format!("`{entry}`: unknown day `{d}` (mon, tue, … sun)");
                let (first, last) = match part.split_once('-') {
                    Some((a, b)) => (
                        day_index(a.trim()).ok_or_else(|| unknown(a))?,
                        day_index(b.trim()).ok_or_else(|| unknown(b))?,
                    ),
                    None => {
                        let d = day_index(part).ok_or_else(|| unknown(part))?;
                        (d, d)
                    }
                };
                let mut d = first;
                loop {
                    days[d].push((open, close));
                    if d == last {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err("no open window: write e.g. `mon-fri 09:00-18:00`".into());
        }
        for windows in &mut days {
            windows.sort();
            if windows.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(format!("`{text}`: two windows of one day overlap"));
            }
        }
        Ok(BusinessHours { days })
    }

    /// The open windows, as absolute times, starting with the local day of `from`.
    fn windows(
        &self,
        from: Millis,
        offset: UtcOffset,
    ) -> impl Iterator<Item = (Millis, Millis)> + '_ {
        let first_day = (from + offset.ms()).div_euclid(DAY);
        (first_day..).flat_map(move |day| {
            // 1970-01-01 was a Thursday (index 3 from Monday).
            let weekday = (day + 3).rem_euclid(7) as usize;
            let midnight = day * DAY - offset.ms();
            self.days[weekday]
                .iter()
                .map(move |(o, c)| (midnight + o * MINUTE, midnight + c * MINUTE))
        })
    }

    pub fn is_open(&self, at: Millis, offset: UtcOffset) -> bool {
        self.windows(at, offset)
            .take_while(|(open, _)| *open <= at)
            .any(|(_, close)| at < close)
    }

    /// When `working` of open time has passed after `start`: the SLA due time.
    pub fn add_working(&self, start: Millis, working: Millis, offset: UtcOffset) -> Millis {
        let mut left = working.max(0);
        for (open, close) in self.windows(start, offset) {
            if close <= start {
                continue;
            }
            let from = open.max(start);
            if left <= close - from {
                return from + left;
            }
            left -= close - from;
        }
        unreachable!("windows() repeats every week and has at least one window")
    }
}

/// When a person will take over, for the auto-reply's `{handoff_eta}`: "2小时内" while the
/// shop is open and the SLA fits in today's hours, otherwise the due time itself —
/// "明天09:30前", "周一10:00前", "11月25日10:00前".
pub fn handoff_eta(
    now: Millis,
    due: Millis,
    sla: Millis,
    offset: UtcOffset,
    traditional: bool,
) -> String {
    if due <= now + sla {
        return within(sla, traditional);
    }
    let local = |t: Millis| t + offset.ms();
    let (today, due_day) = (local(now).div_euclid(DAY), local(due).div_euclid(DAY));
    let minute_of_day = local(due).rem_euclid(DAY) / MINUTE;
    let time = format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60);
    let ahead = due_day - today;
    let day = match ahead {
        0 => "今天".to_string(),
        1 => "明天".to_string(),
        2 if traditional => "後天".to_string(),
        2 => "后天".to_string(),
        3..=6 => {
            let names = ["一", "二", "三", "四", "五", "六", "日"];
            let weekday = (due_day + 3).rem_euclid(7) as usize;
            format!(
                "{}{}",
                if traditional { "週" } else { "周" },
                names[weekday]
            )
        }
        _ => {
            let date = chrono::DateTime::from_timestamp_millis(local(due)).unwrap_or_default();
            date.format("%-m月%-d日").to_string()
        }
    };
    format!("{day}{time}前")
}

/// "2小时内" / "30分鐘內".
fn within(sla: Millis, traditional: bool) -> String {
    let minutes = (sla.max(0) as u64).div_ceil(MINUTE as u64).max(1);
    let (hour, minute) = if traditional {
        ("小時內", "分鐘內")
    } else {
        ("小时内", "分钟内")
    };
    if minutes.is_multiple_of(60) {
        format!("{}{hour}", minutes / 60)
    } else {
        format!("{minutes}{minute}")
    }
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (d, windows) in self.days.iter().enumerate() {
            for (o, c) in windows {
                if !first {
                    write!(f, "; ")?;
                }
                first = false;
                write!(
                    f,
                    "{} {:02}:{:02}-{:02}:{:02}",
                    DAY_NAMES[d],
                    o / 60,
                    o % 60,
                    c / 60,
                    c % 60
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
