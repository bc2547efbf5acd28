//! One `anfu serve` process of the cluster: its config file, the running child, and the
//! two ways to stop it (SIGKILL, SIGTERM).

use super::{APP_KEY, SECRET, TOKEN};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One `anfu serve` process; killed when dropped.
pub struct Instance {
    port: u16,
    config: std::path::PathBuf,
    child: Option<Child>,
}

impl Instance {
    pub async fn start(dir: &std::path::Path, name: &str, db: &str, platform: &str) -> Instance {
        let port = free_port();
        let root = env!("CARGO_MANIFEST_DIR");
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                r#"[server]
listen = "127.0.0.1:{port}"
agent_token = "{TOKEN}"
[storage]
url = "{db}"
[data]
intents = "{root}/intents"
replies = "{root}/replies"
[conversation]
burst_window = "1s"
[worker]
concurrency = 4
retry_base = "100ms"
retry_max = "1s"
lease = "3s"
[http_client]
timeout = "2s"
[[shops]]
id = "tb"
platform = "taobao"
api_base = "{platform}"
app_key = "{APP_KEY}"
secret = "{SECRET}"
session = "s"
"#
            ),
        )
        .expect("config written");
        let mut instance = Instance {
            port,
            config,
            child: None,
        };
        instance.spawn().await;
        instance
    }

    pub async fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_anfu"))
            .args(["serve", "--config", &self.config.to_string_lossy()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("anfu starts");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base())).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "anfu on {} never answered",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        child.wait().expect("anfu exits")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}
