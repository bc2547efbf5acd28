//! `anfu analyze` over JSON Lines: one record out per object in, in input order.
//!
//! A bad line (invalid UTF-8, malformed JSON, no `text`) gets an error object on its own
//! output line and the run goes on; the caller turns `failed > 0` into the exit code.

use crate::analysis::Analyzer;
use crate::domain::Analysis;
use serde::Serialize;
use serde_json::Value;
use std::io::{self, BufRead, Write};

/// Longest accepted input line, so one runaway line cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Counts of one batch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub analysed: usize,
    pub failed: usize,
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    #[serde(flatten)]
    analysis: Analysis,
}

#[derive(Serialize)]
struct Failure<'a> {
    id: Option<&'a Value>,
    line: usize,
    error: String,
}

/// Lines analysed together; each chunk is split across the available cores.
const CHUNK_LINES: usize = 4096;

/// Reads JSONL from `input`, writes one JSON object per non-blank line to `output`, in input
/// order. Lines are analysed in chunks, each split over `threads` threads.
///
/// # Errors
/// Only I/O errors of `input` or `output`; bad lines are reported in-band.
pub fn run(
    analyzer: &Analyzer,
    threads: usize,
    mut input: impl BufRead,
    mut output: impl Write,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut line_no = 0;
    loop {
        let mut chunk: Vec<(usize, Vec<u8>)> = Vec::with_capacity(CHUNK_LINES);
        while chunk.len() < CHUNK_LINES {
            let mut buf = Vec::new();
            if input.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            line_no += 1;
            if !buf.iter().all(u8::is_ascii_whitespace) {
                chunk.push((line_no, buf));
            }
        }
        if chunk.is_empty() {
            break;
        }
        for line in analyse_chunk(analyzer, &chunk, threads) {
            let json = match line {
                Ok(json) => {
                    summary.analysed += 1;
                    json
                }
                Err(json) => {
                    summary.failed += 1;
                    json
                }
            };
            output.write_all(json.as_bytes())?;
            output.write_all(b"\n")?;
        }
    }
    output.flush()?;
    Ok(summary)
}

/// Output lines for a chunk, in order: `Ok` records, `Err` error objects.
fn analyse_chunk(
    analyzer: &Analyzer,
    chunk: &[(usize, Vec<u8>)],
    threads: usize,
) -> Vec<Result<String, String>> {
    if threads <= 1 {
        // On the calling thread: regex caches stay with their owner thread (fast path).
        return chunk
            .iter()
            .map(|(n, raw)| render(analyzer, raw, *n))
            .collect();
    }
    let per_thread = chunk.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunk
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(n, raw)| render(analyzer, raw, *n))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn render(analyzer: &Analyzer, raw: &[u8], line_no: usize) -> Result<String, String> {
    analyse_line(analyzer, raw, line_no).map_err(|(id, error)| {
        let failure = Failure {
            id: id.as_ref(),
            line: line_no,
            error,
        };
        serde_json::to_string(&failure).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

fn analyse_line(
    analyzer: &Analyzer,
    raw: &[u8],
    line_no: usize,
) -> Result<String, (Option<Value>, String)> {
    if raw.len() > MAX_LINE_BYTES {
        return Err((
            None,
            format!("line {line_no} is longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|e| {
        (
            None,
            format!(
                "line {line_no} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text.trim())
        .map_err(|e| (None, format!("line {line_no} is not valid JSON: {e}")))?;
    let Value::Object(object) = &value else {
        return Err((None, format!("line {line_no} is not a JSON object")));
    };
    let id = object.get("id");
    let message = match object.get("text") {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err((
                id.cloned(),
                format!("line {line_no}: `text` must be a string"),
            ))
        }
        None => return Err((id.cloned(), format!("line {line_no}: missing `text`"))),
    };
    let context: Vec<crate::analysis::Turn> = match object.get("context") {
        None | Some(Value::Null) => Vec::new(),
        Some(turns) => serde_json::from_value(turns.clone()).map_err(|e| {
            (
                id.cloned(),
                format!("line {line_no}: `context` must be a list of {{\"from\": \"buyer\"|\"shop\", \"text\": \"...\"}}: {e}"),
            )
        })?,
    };
    let record = Record {
        id,
        analysis: analyzer.analyze_in_context(message, &context),
    };
    serde_json::to_string(&record).map_err(|e| (id.cloned(), e.to_string()))
}
