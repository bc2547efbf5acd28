//! The agent's next steps on the card: by issue, demand and threat.

use super::*;

#[test]
fn reply_next_steps_follow_issue_demand_and_threat() {
    struct Case {
        name: &'static str,
        analysis: Analysis,
        want: &'static [&'static str],
    }
    let with_demands = |mut a: Analysis, demands: &[Demand]| {
        a.demands = demands.to_vec();
        a
    };
    let cases = [
        Case {
            name: "issue default",
            analysis: complaint(IssueType::Quality, Mood::Calm, &[]),
            want: &["quality-1", "quality-2"],
        },
        Case {
            name: "demand-specific steps",
            analysis: with_demands(
                complaint(IssueType::Damaged, Mood::Calm, &[]),
                &[Demand::Reship],
            ),
            want: &["damaged-reship"],
        },
        Case {
            name: "first demand with steps wins",
            analysis: with_demands(
                complaint(IssueType::Quality, Mood::Calm, &[]),
                &[Demand::Refund, Demand::Exchange],
            ),
            want: &["quality-exchange"],
        },
        Case {
            name: "threat comes first, at most two",
            analysis: complaint(IssueType::Quality, Mood::Angry, &[Threat::BadReview]),
            want: &["escalate", "quality-1"],
        },
        Case {
            name: "threat-specific escalation",
            analysis: complaint(
                IssueType::Damaged,
                Mood::Calm,
                &[Threat::Media, Threat::Legal],
            ),
            want: &["escalate-legal", "damaged-1"],
        },
        Case {
            name: "non-complaint without steps",
            analysis: analysis(Intent::Praise, None, Mood::Calm, &[]),
            want: &[],
        },
    ];
    assert_unique(cases.iter().map(|c| c.name));
    let book = marked();
    for c in &cases {
        assert_eq!(book.next_steps(&c.analysis), c.want, "case `{}`", c.name);
    }
}

#[test]
fn reply_shipped_next_steps_cover_every_issue() {
    let book = shipped();
    for issue in IssueType::ALL {
        for demand in Demand::ALL {
            let mut a = complaint(*issue, Mood::Angry, &[Threat::Platform]);
            a.demands = vec![*demand];
            let steps = book.next_steps(&a);
            assert!(
                (1..=2).contains(&steps.len()),
                "{issue} {demand}: {steps:?}"
            );
        }
    }
    let mut damaged = complaint(IssueType::Damaged, Mood::Calm, &[]);
    damaged.demands = vec![Demand::Reship];
    assert!(book.next_steps(&damaged)[0].contains("核实破损照片后补发"));
}
