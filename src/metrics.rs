//! Prometheus metrics in the text exposition format, without a metrics framework: a few
//! counters and histograms behind one mutex each (a handful of updates per message), and
//! gauges read from the store at scrape time.
//!
//! Every metric is declared in [`DEFS`] with its help text; recording an undeclared name is
//! a bug caught by the tests.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
    Gauge,
}

/// Name, kind, help.
pub const DEFS: &[(&str, Kind, &str)] = &[
    (
        "anfu_webhook_messages_total",
        Kind::Counter,
        "Buyer messages received by webhook or poll, by platform and result (new, duplicate).",
    ),
    (
        "anfu_webhook_refused_total",
        Kind::Counter,
        "Webhook requests refused, by platform and error code.",
    ),
    (
        "anfu_analysis_labels_total",
        Kind::Counter,
        "Analysed conversations by label (intent, issue_type, mood, priority, threat, demand) and value.",
    ),
    (
        "anfu_reply_send_seconds",
        Kind::Histogram,
        "Time of one call to a platform's send API, by platform and outcome.",
    ),
    (
        "anfu_reply_lag_seconds",
        Kind::Histogram,
        "From the buyer's message being stored to the reply accepted by the platform.",
    ),
    (
        "anfu_sink_send_seconds",
        Kind::Histogram,
        "Time of one handoff notice to a sink, by sink kind and outcome.",
    ),
    (
        "anfu_job_retries_total",
        Kind::Counter,
        "Jobs scheduled for another attempt, by job kind.",
    ),
    (
        "anfu_data_reloads_total",
        Kind::Counter,
        "Data reloads (SIGHUP, POST /v1/admin/reload), by result: ok or refused.",
    ),
    (
        "anfu_dead_letters_total",
        Kind::Counter,
        "Jobs given up on (dead letters), by job kind.",
    ),
    (
        "anfu_handoffs_opened_total",
        Kind::Counter,
        "Handoff tickets opened, by priority.",
    ),
    (
        "anfu_handoffs_reopened_total",
        Kind::Counter,
        "Resolved tickets reopened by a repeat complaint, by their raised priority.",
    ),
    (
        "anfu_escalations_total",
        Kind::Counter,
        "Unclaimed P1 tickets escalated to the escalation sinks.",
    ),
    (
        "anfu_followups_total",
        Kind::Counter,
        "Follow-ups (回访) by step: asked, satisfied, invited.",
    ),
    (
        "anfu_sla_warnings_total",
        Kind::Counter,
        "Tickets announced as about to breach their SLA.",
    ),
    (
        "anfu_sla_breaches_total",
        Kind::Counter,
        "Tickets that breached their SLA.",
    ),
    (
        "anfu_panics_total",
        Kind::Counter,
        "Panics caught (bugs), by place: job, poll, sla, worker. Each also raises an operator alert.",
    ),
    (
        "anfu_operator_alerts",
        Kind::Gauge,
        "Operator alerts up now (1 each), by key: a shop's or sink's credentials, storage, panics.",
    ),
    (
        "anfu_queue_jobs",
        Kind::Gauge,
        "Stored jobs by kind and status (pending, running, dead).",
    ),
];

/// Upper bounds of the latency histograms, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, Labels), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, Labels), Histogram>>,
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn declared(name: &str, kind: Kind) -> bool {
    DEFS.iter().any(|(n, k, _)| *n == name && *k == kind)
}

impl Metrics {
    /// What the analyzer decided about a conversation (`anfu_analysis_labels_total`).
    pub fn count_analysis(&self, a: &crate::domain::Analysis) {
        let name = "anfu_analysis_labels_total";
        self.inc(name, &[("label", "intent"), ("value", a.intent.as_str())]);
        self.inc(name, &[("label", "mood"), ("value", a.mood.as_str())]);
        if a.intent == crate::domain::Intent::Complaint {
            let issue = a.issue_type.map_or("none", |i| i.as_str());
            self.inc(name, &[("label", "issue_type"), ("value", issue)]);
            let priority = a.priority.as_str();
            self.inc(name, &[("label", "priority"), ("value", priority)]);
        }
        for t in &a.threats {
            self.inc(name, &[("label", "threat"), ("value", t.as_str())]);
        }
        for d in &a.demands {
            self.inc(name, &[("label", "demand"), ("value", d.as_str())]);
        }
    }

    pub fn inc(&self, name: &'static str, pairs: &[(&'static str, &str)]) {
        self.add(name, pairs, 1);
    }

    pub fn add(&self, name: &'static str, pairs: &[(&'static str, &str)], n: u64) {
        debug_assert!(declared(name, Kind::Counter), "undeclared counter {name}");
        *self
            .counters
            .lock()
            .expect("metrics lock")
            .entry((name, labels(pairs)))
            .or_default() += n;
    }

    pub fn observe(&self, name: &'static str, pairs: &[(&'static str, &str)], seconds: f64) {
        debug_assert!(
            declared(name, Kind::Histogram),
            "undeclared histogram {name}"
        );
        let mut all = self.histograms.lock().expect("metrics lock");
        let h = all
            .entry((name, labels(pairs)))
            .or_insert_with(|| Histogram {
                counts: vec![0; BUCKETS.len()],
                ..Histogram::default()
            });
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            h.counts[i] += 1;
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The exposition text; `gauges` are values read just now (name, labels, value).
    pub fn render(&self, gauges: &[(&'static str, Labels, f64)]) -> String {
        let counters = self.counters.lock().expect("metrics lock").clone();
        let histograms = self.histograms.lock().expect("metrics lock").clone();
        let mut out = String::new();
        for (name, kind, help) in DEFS {
            let kind_name = match kind {
                Kind::Counter => "counter",
                Kind::Histogram => "histogram",
                Kind::Gauge => "gauge",
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind_name}");
            match kind {
                Kind::Counter => {
                    for ((n, l), v) in &counters {
                        if n == name {
                            let _ = writeln!(out, "{name}{} {v}", render_labels(l, None));
                        }
                    }
                }
                Kind::Gauge => {
                    for (n, l, v) in gauges {
                        if n == name {
                            let _ = writeln!(out, "{name}{} {v}", render_labels(l, None));
                        }
                    }
                }
                Kind::Histogram => {
                    for ((n, l), h) in &histograms {
                        if n != name {
                            continue;
                        }
                        let mut cumulative = 0;
                        for (bound, c) in BUCKETS.iter().zip(&h.counts) {
                            cumulative += c;
                            let le = bound.to_string();
                            let _ = writeln!(
                                out,
                                "{name}_bucket{} {cumulative}",
                                render_labels(l, Some(&le))
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {}",
                            render_labels(l, Some("+Inf")),
                            h.count
                        );
                        let _ = writeln!(out, "{name}_sum{} {}", render_labels(l, None), h.sum);
                        let _ = writeln!(out, "{name}_count{} {}", render_labels(l, None), h.count);
                    }
                }
            }
        }
        out
    }
}

/// `{a="x",b="y"}` with values escaped as the format requires.
fn render_labels(l: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = l
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_histograms_and_gauges_render_in_the_text_format() {
        let m = Metrics::default();
        m.inc(
            "anfu_webhook_messages_total",
            &[("platform", "taobao"), ("result", "new")],
        );
        m.add(
            "anfu_webhook_messages_total",
            &[("platform", "taobao"), ("result", "new")],
            2,
        );
        m.observe(
            "anfu_reply_send_seconds",
            &[("platform", "generic"), ("outcome", "ok")],
            0.003,
        );
        m.observe(
            "anfu_reply_send_seconds",
            &[("platform", "generic"), ("outcome", "ok")],
            50.0,
        );
        let text = m.render(&[(
            "anfu_queue_jobs",
            vec![("kind", "reply".into()), ("status", "pending".into())],
            4.0,
        )]);
        for line in [
            "# TYPE anfu_webhook_messages_total counter",
            "anfu_webhook_messages_total{platform=\"taobao\",result=\"new\"} 3",
            "anfu_reply_send_seconds_bucket{platform=\"generic\",outcome=\"ok\",le=\"0.0025\"} 0",
            "anfu_reply_send_seconds_bucket{platform=\"generic\",outcome=\"ok\",le=\"0.005\"} 1",
            "anfu_reply_send_seconds_bucket{platform=\"generic\",outcome=\"ok\",le=\"30\"} 1",
            "anfu_reply_send_seconds_bucket{platform=\"generic\",outcome=\"ok\",le=\"+Inf\"} 2",
            "anfu_reply_send_seconds_count{platform=\"generic\",outcome=\"ok\"} 2",
            "anfu_queue_jobs{kind=\"reply\",status=\"pending\"} 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let l = vec![("code", "a\"b\\c\nd".to_string())];
        assert_eq!(render_labels(&l, None), "{code=\"a\\\"b\\\\c\\nd\"}");
    }
}
