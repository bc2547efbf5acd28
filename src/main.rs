//! The `anfu` command line; the work happens in the library.

use anfu::analysis::Analyzer;
use clap::{Parser, Subcommand};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "anfu",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ANFU_GIT_COMMIT"), ")"),
    about = "Soothes unhappy buyers: analyses Chinese buyer messages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse JSON Lines from stdin ({"id": .., "text": ..}), or one --text.
    Analyze {
        /// Analyse this text and print one pretty record instead of reading stdin.
        #[arg(long)]
        text: Option<String>,
        /// With --text: the conversation's earlier turns, oldest first, as JSON
        /// (`[{"from": "buyer", "text": "我的快递到哪了"}, {"from": "shop", "text": "..."}]`).
        #[arg(long, requires = "text")]
        context: Option<String>,
        /// The dictionaries folder (default: the set built into the binary).
        #[arg(long, default_value = "<built-in>/intents", env = "ANFU_INTENTS")]
        intents: PathBuf,
        /// Threads for stdin batches (default: every core).
        #[arg(long)]
        threads: Option<usize>,
        /// Print load and analysis time and messages/s to stderr as JSON.
        #[arg(long)]
        stats: bool,
    },
    /// Measure accuracy on labelled JSONL files (dev-set schema or review polarity).
    Eval {
        /// One or more labelled .jsonl files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also list misclassified lines with their evidence.
        #[arg(long)]
        errors: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "<built-in>/intents", env = "ANFU_INTENTS")]
        intents: PathBuf,
    },
    /// Train the model on the corpus and write `<intents>/model.tsv` (deterministic: the same
    /// lines and seed give the same file).
    Train(anfu::training::Run),
    /// Validate the config (with --config), its secrets and the data folders, and report
    /// every problem with file and line, without starting anything; with --probe, also
    /// make one harmless authenticated call per shop and per sink.
    Check(anfu::check::CheckArgs),
    /// Write the built-in `intents/` and `replies/` into DIR, to edit and point
    /// `--intents`/`--replies` (or `data.intents`/`data.replies`) at.
    Export { dir: PathBuf },
    /// Run the webhook service (see config/default.toml for every setting).
    Serve {
        /// The TOML config file; ANFU_SECTION__KEY variables override it.
        #[arg(long, env = "ANFU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Start the service with a stand-in platform, replay fixtures/webhooks and print the
    /// replies and handoff cards; then keep serving.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, default_value = "<built-in>/fixtures/webhooks")]
        fixtures: PathBuf,
        /// The demo's SQLite file (recreated on every run).
        #[arg(long, default_value = "anfu-demo.db")]
        database: PathBuf,
        #[arg(long, default_value = "<built-in>/intents", env = "ANFU_INTENTS")]
        intents: PathBuf,
        #[arg(long, default_value = "<built-in>/replies", env = "ANFU_REPLIES")]
        replies: PathBuf,
        /// Stop after the replay instead of serving on.
        #[arg(long)]
        exit: bool,
    },
}

fn load(intents: &Path) -> Result<Analyzer, ExitCode> {
    Analyzer::from_dir(intents).map_err(|e| {
        eprintln!("anfu: {e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) | Err(code) => code,
    }
}

fn run(cli: Cli) -> Result<ExitCode, ExitCode> {
    match cli.command {
        Command::Analyze {
            text,
            context,
            intents,
            threads,
            stats,
        } => {
            let started = Instant::now();
            let analyzer = load(&intents)?;
            let loaded = started.elapsed();
            if let Some(text) = text {
                let context: Vec<anfu::analysis::Turn> = match context {
                    Some(json) => serde_json::from_str(&json).map_err(|e| {
                        eprintln!("anfu: --context must be a JSON list of {{\"from\": \"buyer\"|\"shop\", \"text\": \"...\"}}: {e}");
                        ExitCode::from(2)
                    })?,
                    None => Vec::new(),
                };
                let record = analyzer.analyze_in_context(&text, &context);
                let pretty = serde_json::to_string_pretty(&record).map_err(|e| {
                    eprintln!("anfu: {e}");
                    ExitCode::FAILURE
                })?;
                out(format_args!("{pretty}\n"));
                return Ok(ExitCode::SUCCESS);
            }
            let stdin = BufReader::with_capacity(1 << 16, io::stdin().lock());
            let stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
                .max(1);
            let summary = anfu::batch::run(&analyzer, threads, stdin, stdout).map_err(|e| {
                eprintln!("anfu: {e}");
                ExitCode::FAILURE
            })?;
            if stats {
                let analysis = started.elapsed() - loaded;
                let lines = summary.analysed + summary.failed;
                let stats = serde_json::json!({
                    "lines": lines,
                    "threads": threads,
                    "load_s": loaded.as_secs_f64(),
                    "analysis_s": analysis.as_secs_f64(),
                    "msgs_per_s": lines as f64 / analysis.as_secs_f64().max(1e-9),
                });
                eprintln!("{stats}");
            }
            if summary.failed > 0 {
                eprintln!(
                    "anfu: {} line(s) failed, {} analysed (see the error objects in the output)",
                    summary.failed, summary.analysed
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            files,
            errors,
            json,
            intents,
        } => {
            let analyzer = load(&intents)?;
            for file in files {
                let set = anfu::eval::load(&file).map_err(|e| {
                    eprintln!("anfu: {e}");
                    ExitCode::FAILURE
                })?;
                let report = anfu::eval::evaluate(&analyzer, &set);
                if json {
                    let line =
                        serde_json::json!({"file": file.display().to_string(), "report": report});
                    out(format_args!("{line}\n"));
                } else {
                    out(format_args!("== {}\n", file.display()));
                    out(format_args!("{}", anfu::eval::render(&report, errors)));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(run) => match anfu::training::command(&run) {
            Ok(report) => {
                out(format_args!("{report}"));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("anfu: {e}");
                Err(ExitCode::from(2))
            }
        },
        Command::Check(args) => Ok(anfu::check::run(args)),
        Command::Export { dir } => match anfu::built_in::export(&dir) {
            Ok(n) => {
                out(format_args!(
                    "wrote {n} files under {}: edit them, then run with --intents {} --replies {} (or set data.intents / data.replies)\n",
                    dir.display(),
                    dir.join("intents").display(),
                    dir.join("replies").display()
                ));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("anfu: export: {e}");
                Ok(ExitCode::from(2))
            }
        },
        Command::Serve { config } => {
            let config =
                anfu::config::Config::load(config.as_deref(), std::env::vars()).map_err(|e| {
                    eprintln!("anfu: {e}");
                    ExitCode::from(2)
                })?;
            init_tracing_as(&config.log);
            runtime()?.block_on(async {
                let listener = tokio::net::TcpListener::bind(&config.server.listen)
                    .await
                    .map_err(|e| {
                        eprintln!("anfu: cannot listen on {}: {e}", config.server.listen);
                        ExitCode::FAILURE
                    })?;
                anfu::run(config, listener, shutdown_signal())
                    .await
                    .map(|()| ExitCode::SUCCESS)
                    .map_err(|e| {
                        eprintln!("anfu: {e}");
                        ExitCode::from(2)
                    })
            })
        }
        Command::Demo {
            listen,
            fixtures,
            database,
            intents,
            replies,
            exit,
        } => {
            init_tracing();
            let options = anfu::demo::DemoOptions {
                listen,
                fixtures,
                database,
                intents,
                replies,
                exit_after_replay: exit,
            };
            runtime()?
                .block_on(anfu::demo::run(options))
                .map(|()| ExitCode::SUCCESS)
                .map_err(|e| {
                    eprintln!("anfu: {e}");
                    ExitCode::FAILURE
                })
        }
    }
}

/// Writes to stdout; a reader that went away (`anfu analyze … | head`) is not an error worth
/// a panic, which `println!` would make of it.
fn out(text: std::fmt::Arguments) {
    use std::io::Write;
    let _ = io::stdout().lock().write_fmt(text);
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("anfu: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}

/// Logs to stderr; RUST_LOG=debug for more. Secrets are never logged.
fn init_tracing() {
    init_tracing_as(&anfu::config::LogConfig {
        format: anfu::config::LogFormat::Text,
        level: "info".into(),
    });
}

fn init_tracing_as(log: &anfu::config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        anfu::config::LogFormat::Text => builder.try_init(),
        anfu::config::LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Ctrl-C or SIGTERM (what process managers and `docker stop` send): stop accepting, let
/// in-flight requests and jobs finish, exit.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down: draining requests and jobs in flight");
}
