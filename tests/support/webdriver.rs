//! A minimal W3C WebDriver client (the handful of calls the desktop e2e needs), over
//! reqwest's blocking client. `tauri-driver` forwards these to Debian's `WebKitWebDriver`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Home;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
}

impl Session {
    /// Opens a session that launches `application` (a Tauri binary) through tauri-driver.
    pub fn start(driver_url: &str, application: &std::path::Path) -> anyhow::Result<Self> {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build()?;
        let caps = json!({
            "capabilities": {"alwaysMatch": {
                "browserName": "wry",
                "tauri:options": {"application": application}
            }}
        });
        // A cold WebKit start on a loaded machine can make the driver drop the first attempt.
        let mut attempt = 1;
        let resp: Value = loop {
            match http.post(format!("{driver_url}/session")).json(&caps).send().and_then(|r| r.json()) {
                Ok(v) => break v,
                Err(e) if attempt < 3 => {
                    eprintln!("webdriver: new session attempt {attempt} failed ({e}); retrying");
                    std::thread::sleep(Duration::from_secs(2));
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let id = resp["value"]["sessionId"].as_str().ok_or_else(|| anyhow::anyhow!("no session: {resp}"))?.to_owned();
        Ok(Self { http, base: format!("{driver_url}/session/{id}") })
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send()?.json()?;
        if let Some(err) = resp["value"].get("error") {
            anyhow::bail!("webdriver {path}: {err} {}", resp["value"]["message"]);
        }
        Ok(resp["value"].clone())
    }

    /// Runs `script` in the page (as the page's own code would).
    pub fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    /// Runs `script` in the page and waits for it to call its last argument (`done(value)`).
    pub fn execute_async(&self, script: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": []})))
    }

    /// Finds elements by CSS selector.
    pub fn find_all(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let v = self.call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// Waits until at least one element matches, up to `timeout`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Vec<String>> {
        let start = Instant::now();
        loop {
            let found = self.find_all(css)?;
            if !found.is_empty() {
                return Ok(found);
            }
            if start.elapsed() > timeout {
                anyhow::bail!(
                    "nothing matched {css:?} within {timeout:?}; page: {}",
                    self.page_text().unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, element: &str) -> anyhow::Result<String> {
        Ok(self
            .call(reqwest::Method::GET, &format!("/element/{element}/text"), None)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub fn click(&self, element: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({})))?;
        Ok(())
    }

    pub fn type_into(&self, element: &str, text: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text})))?;
        Ok(())
    }

    /// The whole page's visible text.
    pub fn page_text(&self) -> anyhow::Result<String> {
        let body = self.find_all("body")?;
        match body.first() {
            Some(b) => self.text(b),
            None => Ok(String::new()),
        }
    }

    /// The page's HTML source.
    pub fn source(&self) -> anyhow::Result<String> {
        Ok(self.call(reqwest::Method::GET, "/source", None)?.as_str().unwrap_or_default().to_owned())
    }

    /// A PNG screenshot.
    pub fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        use base64::Engine;
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None)?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default())?)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).send();
    }
}

/// Answers the app's native confirmation dialog whose title contains `title` (a GTK window
/// outside the page, which WebDriver cannot reach): focuses it and types `keys` as a user would
/// (`alt+r` for a `_Reveal` button, `Escape` to cancel). Waits up to 20 s for it to appear.
pub fn answer_native_dialog(title: &str, keys: &str) -> anyhow::Result<()> {
    let window = native_dialog(title)?;
    let status = std::process::Command::new("xdotool")
        .args(["windowfocus", "--sync", &window, "key", "--clearmodifiers", keys])
        .status()?;
    anyhow::ensure!(status.success(), "xdotool could not answer the dialog");
    Ok(())
}

/// The X window of the native dialog titled `title`, once it shows (20 s at most).
fn native_dialog(title: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = std::process::Command::new("xdotool").args(["search", "--onlyvisible", "--name", title]).output()?;
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_owned) {
            return Ok(id);
        }
        anyhow::ensure!(Instant::now() < deadline, "no dialog titled {title:?} appeared");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Types `text` into the focused field of the native dialog titled `title` (a save dialog's name).
pub fn type_into_native_dialog(title: &str, text: &str) -> anyhow::Result<()> {
    let window = native_dialog(title)?;
    let status = std::process::Command::new("xdotool")
        .args(["windowfocus", "--sync", &window, "type", "--delay", "20", "--clearmodifiers", text])
        .status()?;
    anyhow::ensure!(status.success(), "xdotool could not type into the dialog");
    Ok(())
}

/// Whether a native dialog titled `title` is showing.
pub fn native_dialog_shown(title: &str) -> bool {
    std::process::Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
}

/// tauri-driver, from PATH or `~/.cargo/bin`.
pub fn tauri_driver() -> Option<PathBuf> {
    let home_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("tauri-driver"))
        .chain(home_bin)
        .find(|p| p.exists())
}

/// tauri-driver, stopped when dropped.
pub struct Driver(Child);

impl Driver {
    /// Its process id: the app it starts is among its descendants.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts tauri-driver for `home`'s app (its env, without the passphrase: the app asks, or
/// unlocks through the keychain); returns it and its WebDriver address.
pub fn start_driver(driver: &Path, home: &Home) -> (Driver, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let native_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(driver)
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("KEYWARD_HOME", home.path())
        .envs(home.env.iter().filter(|(k, _)| k != "KEYWARD_PASSPHRASE").map(|(k, v)| (k, v)))
        .env_remove("KEYWARD_PASSPHRASE")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tauri-driver");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "tauri-driver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Driver(child), format!("http://127.0.0.1:{port}"))
}
