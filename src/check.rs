//! `anfu check`: validates the config, its secrets and the data folders without starting
//! anything, and reports every problem with file and line. With `--probe` it also makes one
//! harmless authenticated call per shop and per sink (see each platform's and sink's
//! `probe`), and reports which credentials work.

use crate::analysis::{Analyzer, DataErrors};
use crate::config::Config;
use crate::platform::{Probe, SendContext};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// What to check.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    /// The service's TOML config: checked, and its `data` folders used.
    #[arg(long, env = "ANFU_CONFIG")]
    pub config: Option<PathBuf>,
    /// The dictionaries (default: the config's `data.intents`, else the built-in set).
    #[arg(long, env = "ANFU_INTENTS")]
    pub intents: Option<PathBuf>,
    /// The replies (default: the config's `data.replies`, else the built-in set).
    #[arg(long, env = "ANFU_REPLIES")]
    pub replies: Option<PathBuf>,
    /// Also make one harmless authenticated call per shop and per sink (it opens the
    /// configured store, as `serve` would, for the tokens that rotate). Needs --config.
    #[arg(long, requires = "config")]
    pub probe: bool,
}

fn out(text: std::fmt::Arguments) {
    let _ = std::io::stdout().lock().write_fmt(text);
}

/// Runs the check: exit 0 when everything holds, 2 when anything is wrong (a refused
/// credential included).
pub fn run(args: CheckArgs) -> ExitCode {
    let mut intents_at = crate::built_in::folder("intents");
    let mut replies_at = crate::built_in::folder("replies");
    let mut config = None;
    if let Some(file) = args.config.as_deref() {
        match Config::load(Some(file), std::env::vars()) {
            Ok(c) => {
                out(format_args!(
                    "{}: ok ({} shops, {} sinks)\n",
                    file.display(),
                    c.shops.len(),
                    c.sinks.len()
                ));
                intents_at = c.data.intents.clone();
                replies_at = c.data.replies.clone();
                config = Some(c);
            }
            Err(e) => {
                eprintln!("anfu: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let data_ok = check_data(
        args.intents.unwrap_or(intents_at),
        args.replies.unwrap_or(replies_at),
    );
    if let Err(e) = crate::sink::mask::check() {
        eprintln!("anfu: {e}");
        return ExitCode::from(2);
    }
    let probes_ok = match (args.probe, config) {
        (true, Some(config)) => probe_all(&config),
        _ => true,
    };
    if data_ok && probes_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Loads both data folders as `serve` would; prints what loaded and every problem.
fn check_data(intents: PathBuf, replies: PathBuf) -> bool {
    let mut problems = Vec::new();
    match Analyzer::from_dir(&intents) {
        Ok(analyzer) => {
            for w in analyzer.warnings() {
                eprintln!("warning: {w}");
            }
            out(format_args!(
                "{}: ok ({} terms and patterns)\n",
                intents.display(),
                analyzer.vocabulary_size()
            ));
            if let Some(model) = analyzer.model() {
                out(format_args!(
                    "{}: ok ({} features)\n",
                    intents.join(crate::analysis::model::MODEL_FILE).display(),
                    model.features()
                ));
            }
        }
        Err(e) => problems.extend(e.0),
    }
    match crate::reply::ReplyBook::from_dir(&replies) {
        Ok(_) => out(format_args!("{}: ok\n", replies.display())),
        Err(e) => problems.extend(e.0),
    }
    if problems.is_empty() {
        return true;
    }
    eprintln!("anfu: {}", DataErrors(problems));
    false
}

/// One line of the probe report.
pub fn describe(what: &str, probe: &Probe) -> String {
    match probe {
        Probe::Works(detail) => format!("probe {what}: works ({detail})"),
        Probe::Fails(reason) => format!("probe {what}: FAILS: {reason}"),
        Probe::NotProbed(why) => format!("probe {what}: not probed ({why})"),
    }
}

/// Probes every shop and sink, one at a time; false when any credential failed.
fn probe_all(config: &Config) -> bool {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("anfu: cannot start the async runtime: {e}");
            return false;
        }
    };
    runtime.block_on(async {
        let store = match crate::open_store(&config.storage).await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("anfu: probe: cannot open the store: {e}");
                return false;
            }
        };
        let outbound = crate::outbound::Outbound::new(
            config.http_client.timeout.0,
            config.worker.sends_per_shop,
        );
        let ctx = SendContext {
            client: outbound.client(),
            store: store.as_ref(),
        };
        let mut all_work = true;
        for shop in &config.shops {
            let platform = crate::platform::of(shop.platform());
            let probe = platform.probe(&ctx, shop).await;
            all_work &= !matches!(probe, Probe::Fails(_));
            let what = format!("shop {} ({})", shop.id, platform.name());
            out(format_args!("{}\n", describe(&what, &probe)));
        }
        for sink in &config.sinks {
            let probe = crate::sink::probe(outbound.client(), sink).await;
            all_work &= !matches!(probe, Probe::Fails(_));
            let what = format!("sink {} ({})", sink.name, sink.kind);
            out(format_args!("{}\n", describe(&what, &probe)));
        }
        all_work
    })
}
