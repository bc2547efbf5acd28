//! chromedriver and Chromium, started for the test and stopped when dropped, and the few
//! WebDriver steps the test repeats (wait for an element, fill and click, run a script), each
//! failing with a screenshot and the page's source.

use super::*;

pub(super) fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// A browser-side program: from its variable, else Debian's path; missing is a failure.
pub(super) fn program(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found (set {var} to point elsewhere): the console's browser test needs Debian's \
         `chromium` and `chromium-driver`; run scripts/test, which installs them",
        path.display()
    );
    path
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// chromedriver as a child process; dropping it (also while a failed test unwinds) asks it to
/// shut down, which ends its sessions and so Chromium, and kills it if it does not.
pub(super) struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    pub(super) async fn start(program: &Path, dir: &Path) -> Driver {
        let http = reqwest::Client::new();
        // The port is free when picked but could be taken before chromedriver binds it: retry.
        for attempt in 1..=3 {
            let port = free_port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{} does not start: {e}", program.display()));
            let mut driver = Driver { child, port, log };
            let until = Instant::now() + WAIT;
            while Instant::now() < until {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    eprintln!("chromedriver on port {port} exited ({status}); retrying");
                    break;
                }
                let ready = match http.get(format!("{}/status", driver.url())).send().await {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["value"]["ready"] == true),
                    Err(_) => false,
                };
                if ready {
                    return driver;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!(
            "chromedriver did not answer on loopback; see its logs in {}",
            dir.display()
        );
    }

    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = s.read(&mut [0; 256]);
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser session and what a failure report needs.
pub(super) struct Browser {
    pub(super) client: Client,
    driver_log: PathBuf,
}

impl Browser {
    pub(super) async fn start(driver: &Driver, chromium: &Path, profile: &Path) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // Without the background-networking flags Chromium's own connections are
                // refused on a closed network and slow everything down.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1280,900",
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&driver.url()),
        )
        .await
        .expect("Chromium starts within a minute")
        .unwrap_or_else(|e| {
            panic!(
                "no Chromium session ({e}); chromedriver's log: {}",
                driver.log.display()
            )
        });
        Browser {
            client,
            driver_log: driver.log.clone(),
        }
    }

    /// Saves a screenshot and the page's text, then fails.
    pub(super) async fn fail(&self, what: &str, error: impl std::fmt::Display) -> ! {
        let shot = target_dir().join("console-failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        let url = self.client.current_url().await.map(|u| u.to_string());
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        panic!(
            "{what}: {error}\nat {url:?}; page text:\n{text}\nscreenshot: {}; chromedriver log: {}",
            shot.display(),
            self.driver_log.display()
        );
    }

    /// Waits until `locator` finds something.
    pub(super) async fn wait(&self, what: &str, locator: Locator<'_>) -> Element {
        match self.client.wait().at_most(WAIT).for_element(locator).await {
            Ok(e) => e,
            Err(e) => self.fail(&format!("waiting for {what}"), e).await,
        }
    }

    /// Waits until `css` finds nothing.
    pub(super) async fn wait_gone(&self, what: &str, css: &str) {
        let until = Instant::now() + WAIT;
        loop {
            match self.client.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => return,
                Ok(_) if Instant::now() < until => {}
                Ok(_) => self.fail(&format!("{what} still shown"), css).await,
                Err(e) => self.fail(&format!("looking for {what}"), e).await,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of what `locator` finds, once it is there.
    pub(super) async fn text(&self, what: &str, locator: Locator<'_>) -> String {
        let until = Instant::now() + WAIT;
        loop {
            let element = self.wait(what, locator).await;
            match element.text().await {
                Ok(text) => return text,
                // The console redraws the card on every live event: find it again.
                Err(e) if e.is_stale_element_reference() && Instant::now() < until => {}
                Err(e) => self.fail(&format!("reading {what}"), e).await,
            }
        }
    }

    /// Types into each field (emptied first), then clicks `button`. A redraw of the card in
    /// between makes the elements stale: then it starts over.
    pub(super) async fn fill_and_click(&self, what: &str, fields: &[(&str, &str)], button: &str) {
        let until = Instant::now() + WAIT;
        loop {
            let mut result = Ok(());
            for (css, text) in fields {
                let field = self.wait(what, Locator::Css(css)).await;
                result = match field.clear().await {
                    Ok(()) => field.send_keys(text).await,
                    Err(e) => Err(e),
                };
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = self.wait(what, Locator::Css(button)).await.click().await;
            }
            match result {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() && Instant::now() < until => {
                    eprintln!("{what}: the card was redrawn under the test; again");
                }
                Err(e) => self.fail(what, e).await,
            }
        }
    }

    pub(super) async fn run(&self, script: &str) -> Value {
        match self.client.execute(script, vec![]).await {
            Ok(v) => v,
            Err(e) => self.fail(&format!("running `{script}`"), e).await,
        }
    }
}
