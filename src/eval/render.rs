//! `anfu eval`'s text report: per-field figures, confusion matrices and, on request, the
//! lines the analyzer got wrong with their evidence.

use super::{Confusion, LabelledReport, Prf, Report};
use std::fmt::Write as _;

/// A human-readable report; with `show_errors`, the misclassified lines and their evidence.
pub fn render(report: &Report, show_errors: bool) -> String {
    let mut out = String::new();
    match report {
        Report::Polarity(r) => {
            let _ = writeln!(out, "lines                 {}", r.lines);
            let _ = writeln!(out, "accuracy              {:.3}", r.accuracy);
            let _ = writeln!(
                out,
                "negative detection    P {:.3}  R {:.3}  F1 {:.3}  (tp {} fp {} fn {})",
                r.negative.precision,
                r.negative.recall,
                r.negative.f1,
                r.negative.tp,
                r.negative.fp,
                r.negative.fn_
            );
            let langs: Vec<String> = r.lang.iter().map(|(l, n)| format!("{l} {n}")).collect();
            let _ = writeln!(out, "lang detected         {}", langs.join(", "));
        }
        Report::Labelled(r) => render_labelled(&mut out, r, show_errors),
    }
    out
}

fn prf_line(out: &mut String, name: &str, p: &Prf) {
    let _ = writeln!(
        out,
        "{name:<22}P {:.3}  R {:.3}  F1 {:.3}  (tp {} fp {} fn {})",
        p.precision, p.recall, p.f1, p.tp, p.fp, p.fn_
    );
}

fn render_labelled(out: &mut String, r: &LabelledReport, show_errors: bool) {
    let _ = writeln!(out, "lines                 {}", r.lines);
    let _ = writeln!(out, "intent accuracy       {:.3}", r.intent_accuracy);
    for (label, p) in &r.intent {
        prf_line(out, &format!("  intent {label}"), p);
    }
    let _ = writeln!(
        out,
        "issue_type accuracy   {:.3} (all lines)  {:.3} (gold complaints)",
        r.issue_type_accuracy, r.issue_type_accuracy_on_complaints
    );
    prf_line(out, "demands", &r.demands);
    let _ = writeln!(out, "mood accuracy         {:.3}", r.mood_accuracy);
    let _ = writeln!(
        out,
        "intensity accuracy    {:.3}  (mean abs error {:.3})",
        r.intensity_accuracy, r.intensity_mean_abs_error
    );
    prf_line(out, "threats", &r.threats);
    let _ = writeln!(out, "order_id accuracy     {:.3}", r.order_id_accuracy);
    let _ = writeln!(out, "lang accuracy         {:.3}", r.lang_accuracy);
    let _ = writeln!(out, "priority accuracy     {:.3}", r.priority_accuracy);
    render_confusion(
        out,
        "intent (rows gold, columns predicted)",
        &r.intent_confusion,
    );
    render_confusion(
        out,
        "issue_type on gold complaints (rows gold, columns predicted)",
        &r.issue_type_confusion,
    );
    if show_errors {
        let _ = writeln!(out, "\nmisclassified lines ({}):", r.errors.len());
        for miss in &r.errors {
            let p = &miss.predicted;
            let _ = writeln!(
                out,
                "\n{} [{}] {}",
                miss.id,
                miss.wrong.join(", "),
                miss.text
            );
            let _ = writeln!(
                out,
                "  predicted: {} {} {:?} {} {} {:?} order {:?} {}",
                p.intent,
                p.issue_type.map_or("null", |i| i.as_str()),
                p.demands.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
                p.mood,
                p.intensity,
                p.threats.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                p.order_id,
                p.lang
            );
            for e in &p.evidence {
                let _ = writeln!(
                    out,
                    "  evidence: {} 「{}」 {}..{}",
                    e.label, e.text, e.start, e.end
                );
            }
        }
    }
}

fn render_confusion(out: &mut String, title: &str, m: &Confusion) {
    let mut columns: Vec<&String> = m.values().flat_map(|r| r.keys()).collect();
    columns.sort();
    columns.dedup();
    let _ = writeln!(out, "\n{title}");
    let _ = write!(out, "{:>18}", "");
    for c in &columns {
        let _ = write!(out, "{:>9}", truncate(c, 8));
    }
    let _ = writeln!(out);
    for (gold, row) in m {
        let _ = write!(out, "{:>18}", truncate(gold, 17));
        for c in &columns {
            let _ = write!(out, "{:>9}", row.get(*c).copied().unwrap_or(0));
        }
        let _ = writeln!(out);
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
