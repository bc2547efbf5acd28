//! Analyzer cost, measured beside jieba alone on the same input:
//! - build: `Analyzer::from_dir` (dictionaries + jieba with terms added) vs `Jieba::new()`;
//! - per message: `Analyzer::analyze` vs `Jieba::cut` on the same messages;
//! - throughput: messages per second on one core over a mixed batch.
//!
//! Messages come from `fixtures/labelled/holdout.jsonl` (written for this project), so the
//! benchmark runs on a clean checkout without the shared evaluation data.

use anfu::analysis::Analyzer;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jieba_rs::Jieba;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn messages() -> Vec<String> {
    let raw = std::fs::read_to_string(root().join("fixtures/labelled/holdout.jsonl"))
        .expect("fixtures/labelled/holdout.jsonl is readable");
    raw.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
        .collect()
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("jieba_new", |b| b.iter(|| black_box(Jieba::new())));
    group.bench_function("model_from_file", |b| {
        b.iter(|| {
            black_box(
                anfu::analysis::model::Model::from_file(&root().join("intents/model.tsv"))
                    .expect("valid model"),
            )
        })
    });
    group.bench_function("analyzer_from_dir", |b| {
        b.iter(|| black_box(Analyzer::from_dir(&root().join("intents")).expect("valid intents")))
    });
    group.finish();
}

fn per_message(c: &mut Criterion) {
    let analyzer = Analyzer::from_dir(&root().join("intents")).expect("valid intents");
    let rules_only = Analyzer::rules_only(&root().join("intents")).expect("valid intents");
    let jieba = Jieba::new();
    let msgs = messages();
    let mut group = c.benchmark_group("per_message");
    group.throughput(Throughput::Elements(msgs.len() as u64));
    group.bench_function("jieba_cut_default_dict", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(jieba.cut(m, true));
            }
        })
    });
    group.bench_function("jieba_cut_with_terms", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(analyzer.segmenter().cut(m));
            }
        })
    });
    group.bench_function("analyze_rules_only", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(rules_only.analyze(m));
            }
        })
    });
    group.bench_function("analyze", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(analyzer.analyze(m));
            }
        })
    });
    group.finish();

    let long: String = msgs
        .iter()
        .cycle()
        .take(200)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let mut group = c.benchmark_group("long_message");
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("analyze_10k_chars", |b| {
        b.iter_batched(
            || long.clone(),
            |t| black_box(analyzer.analyze(&t)),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // How cost grows with length: the same mixed text cut to 16 … 4096 characters, analyser
    // beside jieba so the ratio shows whether the extra work stays linear.
    let mut group = c.benchmark_group("by_length");
    for chars in [16usize, 64, 256, 1024, 4096] {
        let text: String = long.chars().cycle().take(chars).collect();
        group.throughput(Throughput::Elements(chars as u64));
        group.bench_function(format!("analyze_{chars}"), |b| {
            b.iter(|| black_box(analyzer.analyze(&text)))
        });
        group.bench_function(format!("analyze_rules_only_{chars}"), |b| {
            b.iter(|| black_box(rules_only.analyze(&text)))
        });
        group.bench_function(format!("jieba_cut_{chars}"), |b| {
            b.iter(|| black_box(jieba.cut(&text, true)))
        });
    }
    group.finish();
}

/// One complaint phrase repeated against mixed messages of the same length, at 1 k, 10 k and
/// 100 k characters: repetition multiplies the dictionary hits, and the rules must stay
/// linear in them (they were quadratic: 99 000 repeated characters took 10 s).
fn repeated_vs_mixed(c: &mut Criterion) {
    let analyzer = Analyzer::from_dir(&root().join("intents")).expect("valid intents");
    let mixed = messages().join("\n");
    let phrase = "质量太差了，我要退货退款，不然就给差评！";
    let mut group = c.benchmark_group("repeated_vs_mixed");
    group.sample_size(10);
    for chars in [1_000usize, 10_000, 100_000] {
        let repeated: String = phrase.chars().cycle().take(chars).collect();
        let mixed: String = mixed.chars().cycle().take(chars).collect();
        group.throughput(Throughput::Elements(chars as u64));
        group.bench_function(format!("repeated_{chars}"), |b| {
            b.iter(|| black_box(analyzer.analyze(&repeated)))
        });
        group.bench_function(format!("mixed_{chars}"), |b| {
            b.iter(|| black_box(analyzer.analyze(&mixed)))
        });
    }
    group.finish();
}

criterion_group!(benches, build, per_message, repeated_vs_mixed);
criterion_main!(benches);
