//! TLS to PostgreSQL (`sslmode` and `sslrootcert` in `storage.url`): a server of its own with
//! a certificate from a CA made for the test. `verify-full` with that CA connects (and the
//! session is encrypted); with another CA it is refused; `require` encrypts without checking.

use crate::pg::Cluster;
use anfu::store::{PgStore, Store};
use sqlx::Connection;
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("openssl (install it): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// A CA, a wrong CA, and a server certificate for 127.0.0.1 signed by the first; the
/// postgresql.conf lines that serve it.
fn certificates(dir: &Path, run_as: Option<&str>) -> Result<String, String> {
    for name in ["ca", "wrong-ca"] {
        let (key, pem, subject) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN=anfu test {name}"),
        );
        let mut args = vec!["req", "-x509", "-nodes", "-days", "2", "-subj", &subject];
        args.extend(EC);
        args.extend(["-keyout", &key, "-out", &pem]);
        openssl(dir, &args)?;
    }
    let mut args = vec!["req", "-nodes", "-subj", "/CN=127.0.0.1"];
    args.extend(EC);
    args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &args)?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| e.to_string())?;
    if let Some(user) = run_as {
        let status = Command::new("chown")
            .arg(format!("{user}:"))
            .arg(dir.join("server.key"))
            .arg(dir.join("server.crt"))
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("chown of the server's certificate failed".into());
        }
    }
    Ok(format!(
        "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
        dir.join("server.crt").display(),
        dir.join("server.key").display()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_connects_with_the_right_ca_and_is_refused_with_a_wrong_one() {
    let cluster = Cluster::start_with(certificates).expect("a PostgreSQL with TLS");
    let base = cluster.url("postgres");
    let with = |mode: &str, ca: &str| {
        format!(
            "{base}?sslmode={mode}&sslrootcert={}",
            cluster.dir().join(ca).display()
        )
    };

    let good = with("verify-full", "ca.pem");
    let store = PgStore::open(&good)
        .await
        .expect("verify-full with the right CA");
    assert_eq!(store.token("nobody").await.expect("a query over TLS"), None);
    let mut session = sqlx::PgConnection::connect(&good).await.expect("connects");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut session)
            .await
            .expect("pg_stat_ssl");
    assert!(encrypted, "the session is encrypted");

    let refused = PgStore::open(&with("verify-full", "wrong-ca.pem")).await;
    let why = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        !why.is_empty(),
        "a certificate from another CA must be refused"
    );

    PgStore::open(&with("require", "wrong-ca.pem"))
        .await
        .map(drop)
        .expect("require encrypts without checking the CA");
}
