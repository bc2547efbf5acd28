//! Tests of `hours`.

use super::*;

/// 2026-11-23 is a Monday; times are Beijing local (UTC+8).
fn bj(day: i64, h: i64, m: i64) -> Millis {
    let monday_2026_11_23 = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("valid time")
        .and_utc()
        .timestamp_millis();
    monday_2026_11_23 + (day * 24 + h) * 3_600_000 + m * MINUTE - 8 * 3_600_000
}

fn office() -> BusinessHours {
    BusinessHours::parse("mon-fri 09:00-18:00; sat 10:00-16:00").expect("valid hours")
}

const HOUR: Millis = 3_600_000;

#[test]
fn parses_ranges_lists_and_wraps() {
    let h = BusinessHours::parse("sat,sun 10:00-14:00; fri-mon 20:00-24:00").expect("valid");
    assert_eq!(
        h.to_string(),
        "mon 20:00-24:00; fri 20:00-24:00; sat 10:00-14:00; sat 20:00-24:00; sun 10:00-14:00; sun 20:00-24:00"
    );
}

#[test]
fn refuses_bad_hours_with_the_reason() {
    for (text, says) in [
        ("", "no open window"),
        ("mon-fri", "expected days and a window"),
        ("mon-fri 9-18", "not a window"),
        ("funday 09:00-18:00", "unknown day `funday`"),
        ("mon 18:00-09:00", "over midnight"),
        ("mon 09:00-12:00; mon 11:00-13:00", "overlap"),
        ("mon 09:00-25:00", "not a window"),
    ] {
        let err = BusinessHours::parse(text).expect_err(text);
        assert!(err.contains(says), "{text}: {err}");
    }
}

#[test]
fn offsets() {
    assert_eq!(UtcOffset::parse("+08:00"), Ok(UtcOffset { minutes: 480 }));
    assert_eq!(UtcOffset::parse("-05:30"), Ok(UtcOffset { minutes: -330 }));
    assert!(UtcOffset::parse("8").is_err());
    assert!(UtcOffset::parse("+15:00").is_err());
}

#[test]
fn open_or_closed() {
    let (h, cn) = (office(), UtcOffset::CHINA);
    for (name, at, open) in [
        ("monday 08:59", bj(0, 8, 59), false),
        ("monday 09:00", bj(0, 9, 0), true),
        ("monday 17:59", bj(0, 17, 59), true),
        ("monday 18:00", bj(0, 18, 0), false),
        ("saturday 12:00", bj(5, 12, 0), true),
        ("sunday 12:00", bj(6, 12, 0), false),
    ] {
        assert_eq!(h.is_open(at, cn), open, "{name}");
    }
}

#[test]
fn the_sla_clock_runs_only_while_open() {
    let (h, cn) = (office(), UtcOffset::CHINA);
    for (name, start, working, due) in [
        ("fits in the day", bj(0, 10, 0), 2 * HOUR, bj(0, 12, 0)),
        (
            "ends exactly at close",
            bj(0, 16, 0),
            2 * HOUR,
            bj(0, 18, 0),
        ),
        (
            "spills into the next morning",
            bj(0, 17, 0),
            2 * HOUR,
            bj(1, 10, 0),
        ),
        ("arrives at night", bj(0, 22, 0), 2 * HOUR, bj(1, 11, 0)),
        (
            "arrives before opening",
            bj(0, 7, 0),
            2 * HOUR,
            bj(0, 11, 0),
        ),
        (
            "friday evening to saturday",
            bj(4, 17, 0),
            2 * HOUR,
            bj(5, 11, 0),
        ),
        (
            "saturday evening to monday",
            bj(5, 20, 0),
            2 * HOUR,
            bj(7, 11, 0),
        ),
        (
            "a day of working time",
            bj(0, 9, 0),
            24 * HOUR,
            bj(2, 15, 0),
        ),
    ] {
        assert_eq!(h.add_working(start, working, cn), due, "{name}");
    }
}

#[test]
fn other_offsets_shift_the_clock() {
    let h = BusinessHours::parse("mon-sun 09:00-18:00").expect("valid");
    let tokyo = UtcOffset::parse("+09:00").expect("valid");
    // 09:30 in Beijing is 10:30 in Tokyo: open in both.
    assert!(h.is_open(bj(0, 9, 30), tokyo));
    // 17:30 in Beijing is 18:30 in Tokyo: closed there.
    assert!(!h.is_open(bj(0, 17, 30), tokyo));
}

#[test]
fn the_reply_says_when_a_person_answers() {
    let cn = UtcOffset::CHINA;
    let two_hours = 2 * HOUR;
    for (name, now, due, traditional, says) in [
        ("open, fits", bj(0, 10, 0), bj(0, 12, 0), false, "2小时内"),
        (
            "open, fits, traditional",
            bj(0, 10, 0),
            bj(0, 12, 0),
            true,
            "2小時內",
        ),
        (
            "tonight to tomorrow",
            bj(0, 22, 0),
            bj(1, 11, 0),
            false,
            "明天11:00前",
        ),
        (
            "early morning, today",
            bj(0, 7, 0),
            bj(0, 11, 0),
            false,
            "今天11:00前",
        ),
        (
            "saturday night to monday",
            bj(5, 20, 0),
            bj(7, 11, 0),
            false,
            "后天11:00前",
        ),
        (
            "traditional day after",
            bj(5, 20, 0),
            bj(7, 11, 0),
            true,
            "後天11:00前",
        ),
        (
            "three days on",
            bj(0, 20, 0),
            bj(3, 11, 0),
            false,
            "周四11:00前",
        ),
        (
            "three days on, traditional",
            bj(0, 20, 0),
            bj(3, 11, 0),
            true,
            "週四11:00前",
        ),
        (
            "over a week",
            bj(0, 20, 0),
            bj(10, 9, 30),
            false,
            "12月3日09:30前",
        ),
    ] {
        assert_eq!(
            handoff_eta(now, due, two_hours, cn, traditional),
            says,
            "{name}"
        );
    }
    assert_eq!(within(30 * MINUTE, false), "30分钟内");
    assert_eq!(within(90 * MINUTE, true), "90分鐘內");
}
