//! Prometheus metrics, kept in a `prometheus-client` registry (the Prometheus project's
//! crate): counters and latency histograms recorded as things happen, gauges read from the
//! store at scrape time. `/metrics` serves OpenMetrics to a scraper that asks for it and the
//! classic text format (0.0.4) otherwise, under the same metric names.
//!
//! Every metric is declared in [`DEFS`] with its help text; recording an undeclared name is
//! a bug caught by the tests.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
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
type Counters = Family<Labels, Counter>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;
type Gauges = Family<Labels, Gauge>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

/// The exposition format a scraper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
    /// `text/plain; version=0.0.4`, the classic Prometheus text format.
    Classic,
}

impl Format {
    /// OpenMetrics when the `Accept` header names it, else the classic format.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Classic,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Classic => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    counters: HashMap<&'static str, Counters>,
    histograms: HashMap<&'static str, Histograms>,
    gauges: HashMap<&'static str, Gauges>,
    /// One scrape at a time: the gauges are set for it, then encoded.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            counters: HashMap::new(),
            histograms: HashMap::new(),
            gauges: HashMap::new(),
            scrape: Mutex::new(()),
        };
        for (name, kind, help) in DEFS {
            match kind {
                Kind::Counter => {
                    let family = Counters::default();
                    // The crate adds the `_total` the names already end with.
                    let base = name.strip_suffix("_total").unwrap_or(name);
                    m.registry.register(base, *help, family.clone());
                    m.counters.insert(name, family);
                }
                Kind::Histogram => {
                    let family = Histograms::new_with_constructor(histogram as fn() -> Histogram);
                    m.registry.register(*name, *help, family.clone());
                    m.histograms.insert(name, family);
                }
                Kind::Gauge => {
                    let family = Gauges::default();
                    m.registry.register(*name, *help, family.clone());
                    m.gauges.insert(name, family);
                }
            }
        }
        m
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
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
        match self.counters.get(name) {
            Some(family) => {
                family.get_or_create(&labels(pairs)).inc_by(n);
            }
            None => debug_assert!(false, "undeclared counter {name}"),
        }
    }

    pub fn observe(&self, name: &'static str, pairs: &[(&'static str, &str)], seconds: f64) {
        match self.histograms.get(name) {
            Some(family) => family.get_or_create(&labels(pairs)).observe(seconds),
            None => debug_assert!(false, "undeclared histogram {name}"),
        }
    }

    /// The exposition; `gauges` are values read just now (name, labels, value).
    pub fn render(&self, gauges: &[(&'static str, Labels, f64)], format: Format) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        for family in self.gauges.values() {
            family.clear();
        }
        for (name, l, value) in gauges {
            match self.gauges.get(name) {
                // Counts of jobs and alerts: whole numbers.
                Some(family) => {
                    family.get_or_create(l).set(*value as i64);
                }
                None => debug_assert!(false, "undeclared gauge {name}"),
            }
        }
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        describe_unrecorded(&mut out);
        match format {
            Format::OpenMetrics => out,
            Format::Classic => classic(&out),
        }
    }
}

/// The crate leaves out families with no series yet; a scraper (and a dashboard) should
/// still see every declared metric, so each is described, before `# EOF`.
fn describe_unrecorded(out: &mut String) {
    let eof = out.rfind("# EOF").unwrap_or(out.len());
    let mut missing = String::new();
    for (name, kind, help) in DEFS {
        let (base, kind) = match kind {
            Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), "counter"),
            Kind::Histogram => (*name, "histogram"),
            Kind::Gauge => (*name, "gauge"),
        };
        if !out.contains(&format!("# TYPE {base} {kind}\n")) {
            missing.push_str(&format!("# HELP {base} {help}\n# TYPE {base} {kind}\n"));
        }
    }
    out.insert_str(eof, &missing);
}

/// The classic text format from OpenMetrics: counters' HELP and TYPE lines name the series
/// (`…_total`) as 0.0.4 expects, and there is no `# EOF`.
fn classic(open_metrics: &str) -> String {
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = DEFS
            .iter()
            .filter(|(_, kind, _)| *kind == Kind::Counter)
            .find_map(|(name, _, _)| {
                let base = name.strip_suffix("_total").unwrap_or(name);
                for head in ["# HELP ", "# TYPE "] {
                    if let Some(rest) = line.strip_prefix(head).and_then(|r| r.strip_prefix(base)) {
                        if rest.starts_with(' ') {
                            return Some(format!("{head}{name}{rest}"));
                        }
                    }
                }
                None
            });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metrics {
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
        for seconds in [0.003, 50.0] {
            m.observe(
                "anfu_reply_send_seconds",
                &[("platform", "generic"), ("outcome", "ok")],
                seconds,
            );
        }
        m.inc("anfu_webhook_refused_total", &[("code", "a\"b\\c\nd")]);
        m
    }

    fn gauges() -> Vec<(&'static str, Labels, f64)> {
        vec![(
            "anfu_queue_jobs",
            vec![("kind", "reply".into()), ("status", "pending".into())],
            4.0,
        )]
    }

    #[test]
    fn counters_histograms_and_gauges_render_in_the_classic_format() {
        let text = sample().render(&gauges(), Format::Classic);
        for line in [
            "# TYPE anfu_webhook_messages_total counter",
            "anfu_webhook_messages_total{platform=\"taobao\",result=\"new\"} 3",
            "anfu_reply_send_seconds_bucket{le=\"0.0025\",platform=\"generic\",outcome=\"ok\"} 0",
            "anfu_reply_send_seconds_bucket{le=\"0.005\",platform=\"generic\",outcome=\"ok\"} 1",
            "anfu_reply_send_seconds_bucket{le=\"+Inf\",platform=\"generic\",outcome=\"ok\"} 2",
            "anfu_reply_send_seconds_count{platform=\"generic\",outcome=\"ok\"} 2",
            "anfu_queue_jobs{kind=\"reply\",status=\"pending\"} 4",
            "anfu_webhook_refused_total{code=\"a\\\"b\\\\c\\nd\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn openmetrics_is_served_when_asked_for() {
        let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
        assert_eq!(Format::from_accept(Some(accept)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Classic);
        let text = sample().render(&gauges(), Format::OpenMetrics);
        assert!(
            text.contains("# TYPE anfu_webhook_messages counter"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn every_declared_metric_is_described_even_before_it_is_recorded() {
        let text = Metrics::default().render(&[], Format::Classic);
        for (name, _, _) in DEFS {
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} in\n{text}"
            );
        }
    }
}
