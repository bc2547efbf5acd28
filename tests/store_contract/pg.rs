//! A throwaway PostgreSQL for the tests. With `ANFU_TEST_PG_URL` set (a server on which the
//! tests may create and drop databases) that server is used. Otherwise the first test that
//! needs one runs `initdb` into a fresh temporary directory and starts it on a free loopback
//! port, its unix socket in that directory; it is shared by the tests of this process, each
//! of which gets a database of its own (so they run in parallel) that is dropped afterwards,
//! also when the test panics. The cluster is stopped and its directory removed when its
//! owner drops it or, for the shared one, when this process ends however it ends: a watchdog
//! child waits for the end of a pipe only this process holds.
//!
//! PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user
//! (created if missing). Missing server binaries fail the test with what to install; they
//! are never a reason to skip it.

use sqlx::Connection;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

const SERVER_USER: &str = "postgres";

pub struct Cluster {
    dir: PathBuf,
    port: u16,
    /// Stops the server and removes `dir` once its stdin closes.
    watchdog: Child,
}

impl Cluster {
    /// initdb + start; every failure says what went wrong.
    pub fn start() -> Result<Cluster, String> {
        Cluster::start_with(|_, _| Ok(String::new()))
    }

    /// [`Cluster::start`], with `setup` preparing files in the cluster's directory (given
    /// the user the server runs as, if not this one) and returning more postgresql.conf
    /// lines (TLS certificates, say).
    pub fn start_with(
        setup: impl Fn(&Path, Option<&str>) -> Result<String, String>,
    ) -> Result<Cluster, String> {
        let bin = find_bin_dir()?;
        let run_as = if is_root()? {
            ensure_user(SERVER_USER)?;
            Some(SERVER_USER)
        } else {
            None
        };
        let dir = std::env::temp_dir().join(format!(
            "anfu-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // From here on the watchdog cleans up, whatever happens next.
        let watchdog = spawn_watchdog(&dir, &bin.join("pg_ctl"), run_as)?;
        let mut cluster = Cluster {
            dir,
            port: 0,
            watchdog,
        };
        if let Some(user) = run_as {
            run(Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&cluster.dir))?;
        }
        let data = cluster.dir.join("data");
        run(as_user(run_as, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync"))?;
        let extra = setup(&cluster.dir, run_as)?;
        let mut last_error = String::new();
        // A free port may be taken between choosing and binding it: choose again.
        for _ in 0..5 {
            cluster.port = free_port()?;
            let mut conf = std::fs::OpenOptions::new()
                .append(true)
                .open(data.join("postgresql.conf"))
                .map_err(|e| format!("postgresql.conf: {e}"))?;
            // Last setting wins: appended again on a retry.
            writeln!(
                conf,
                "\n# anfu tests: loopback only, socket in the temp dir, durability off\n\
                 listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
                 fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
                 max_connections = 300\nlog_min_messages = warning\n{extra}",
                cluster.port,
                cluster.dir.display()
            )
            .map_err(|e| format!("postgresql.conf: {e}"))?;
            let started = run(as_user(run_as, &bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-w", "-t", "60", "start"]));
            match started {
                Ok(()) => return Ok(cluster),
                Err(e) => {
                    let log =
                        std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
                    last_error = format!("{e}\nserver.log:\n{log}");
                }
            }
        }
        Err(format!("PostgreSQL did not start: {last_error}"))
    }

    /// Where the cluster's files are (removed with it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A URL for database `db` as the superuser `postgres` over loopback TCP.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog stop the server and remove the directory.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// Every PostgreSQL test database of this process comes from here.
fn server_url() -> String {
    if let Ok(url) = std::env::var("ANFU_TEST_PG_URL") {
        return url;
    }
    static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match SHARED.get_or_init(Cluster::start) {
        Ok(cluster) => cluster.url("postgres"),
        Err(e) => panic!("no throwaway PostgreSQL for the store tests: {e}"),
    }
}

/// A database of one test's own, dropped with this value.
pub struct TestDb {
    pub url: String,
    server: String,
    name: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = server_url();
        let name = format!(
            "anfu_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() % 1_000_000)
        );
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = admin.close().await;
        TestDb {
            url: with_database(&server, &name),
            server,
            name,
        }
    }
}

impl TestDb {
    /// Makes the database unreachable (`allow = false`: new connections refused, current
    /// ones ended) or reachable again, as an outage would.
    #[allow(dead_code)] // the cluster tests' outage case; the store tests do not need it
    pub async fn set_reachable(&self, allow: bool) {
        let mut admin = sqlx::PgConnection::connect(&self.server)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"));
        let name = &self.name;
        let sql = format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allow}");
        sqlx::raw_sql(&sql)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        if !allow {
            // pg_terminate_backend only signals, and a connection that was starting while
            // the ALTER committed can still get in: end sessions until none is left for a
            // few checks in a row, so the outage is real when this returns.
            let terminate = format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            );
            let mut quiet = 0;
            for _ in 0..200 {
                let (alive,): (i64,) = sqlx::query_as(&terminate)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("{terminate}: {e}"));
                quiet = if alive == 0 { quiet + 1 } else { 0 };
                if quiet == 3 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            assert_eq!(quiet, 3, "sessions on {name} would not end");
        }
        let _ = admin.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime (or while it unwinds): a thread of its own
        // with a runtime of its own. FORCE ends the connections the test's pools left.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok(())
            })
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "panicked".to_string()) {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}

/// `server` (a postgres:// URL) with its database replaced by `db`.
fn with_database(server: &str, db: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_at..].find('/') {
        Some(slash) => &base[..authority_at + slash],
        None => base,
    };
    format!("{base}/{db}{query}")
}

/// Where initdb and pg_ctl are: PATH, else Debian's /usr/lib/postgresql/VERSION/bin (newest).
fn find_bin_dir() -> Result<PathBuf, String> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|d| has_server(d)) {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "the PostgreSQL server binaries (initdb, pg_ctl) are neither on PATH nor in \
         /usr/lib/postgresql/*/bin. Install them (Debian: `apt-get install postgresql`, which \
         scripts/test does) or set ANFU_TEST_PG_URL to a server where the tests may create \
         databases"
            .to_string()
    })
}

fn is_root() -> Result<bool, String> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("id -u: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn ensure_user(user: &str) -> Result<(), String> {
    let exists = Command::new("id")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("id {user}: {e}"))?
        .success();
    if exists {
        return Ok(());
    }
    run(Command::new("useradd")
        .args(["--system", "--user-group", "--no-create-home", "--shell"])
        .arg("/usr/sbin/nologin")
        .arg(user))
}

fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Runs to completion; a failure carries the command's output.
fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// A shell that waits for its stdin to close (this process ended or dropped the cluster),
/// then stops the server (if it runs) and removes `dir`. It ignores the signals a terminal's
/// Ctrl-C sends the whole process group; pg_ctl starts the server in a session of its own.
fn spawn_watchdog(dir: &Path, pg_ctl: &Path, run_as: Option<&str>) -> Result<Child, String> {
    const SCRIPT: &str = r#"trap '' INT TERM HUP
cat >/dev/null
if [ -f "$1/data/postmaster.pid" ]; then
  if [ -n "$3" ]; then runuser -u "$3" -- "$2" -D "$1/data" -m immediate -w stop
  else "$2" -D "$1/data" -m immediate -w stop; fi
fi
rm -rf "$1""#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("anfu-pg-watchdog")
        .arg(dir)
        .arg(pg_ctl)
        .arg(run_as.unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the cleanup watchdog: {e}"))
}

#[test]
fn database_urls_keep_server_and_options() {
    assert_eq!(
        with_database("postgres://u@h:5/postgres", "t1"),
        "postgres://u@h:5/t1"
    );
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "t1"),
        "postgresql://u:p@h/t1?sslmode=disable"
    );
}
