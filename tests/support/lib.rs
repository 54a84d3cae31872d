//! Test support for Keyward's cross-crate scenarios: the built binaries, temp homes, and the
//! moto estate harness (`tests/moto/estate.py`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub mod webdriver;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A binary built from this workspace, next to the running test (`target/<profile>/NAME`).
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built; run `cargo build --workspace --bins` first (make test does)",
        bin.display()
    );
    bin
}

/// Held by the tests that load the machine most (the large moto estate, the desktop window), so
/// they never overlap on a 2-core machine: a WebKit start starved by a 2,000-user sync is a
/// flaky test, not a finding.
pub fn heavy_test() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A passphrase every test vault uses (headless: no keychain needed).
pub const PASSPHRASE: &str = "test passphrase, not a secret";

/// A Keyward home in a temp dir, with helpers to run the CLI against it.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Home {
    /// A fresh, uninitialised home; the CLI will use the test passphrase.
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), env: vec![("KEYWARD_PASSPHRASE".into(), PASSPHRASE.into())] }
    }

    /// A fresh home with `keyward init` done.
    pub fn initialised() -> Self {
        let home = Self::new();
        home.ok(&["init"]);
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(built_binary("keyward"));
        cmd.arg("--home").arg(self.path()).args(args);
        cmd.env_remove("KEYWARD_HOME").env_remove("KEYWARD_PASSPHRASE").env_remove("KEYWARD_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `keyward ARGS` with `stdin` as input.
    pub fn run_with_input(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // A command refused before it reads its input (a usage error) closes the pipe: that is
        // its answer, not the harness's failure.
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing the input: {e}");
        }
        child.wait_with_output().unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "keyward {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and parses stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Schedules only the audit, on `cron`, through the CLI (every sync job switched off);
    /// returns the job ids there were.
    pub fn schedule_only_the_audit(&self, cron: &str) -> Vec<String> {
        self.schedule_only("audit", cron)
    }

    /// Schedules only the job `only`, on `cron` (every other job switched off); returns the job
    /// ids there were.
    pub fn schedule_only(&self, only: &str, cron: &str) -> Vec<String> {
        let jobs = self.json(&["schedule", "list", "--json"]);
        let ids: Vec<String> = jobs.as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()).collect();
        for id in ids.iter().filter(|i| *i != only) {
            self.ok(&["schedule", "set", id, "--disable"]);
        }
        self.ok(&["schedule", "set", only, "--cron", cron]);
        ids
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

/// A moto server seeded by `tests/moto/estate.py`, with the truth it wrote.
pub struct MotoEstate {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
    pub endpoint: String,
    pub truth: serde_json::Value,
    _dir: tempfile::TempDir,
}

/// The Python that has moto installed: `KEYWARD_MOTO_PYTHON`, else the repo's `.venv-moto`.
pub fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("KEYWARD_MOTO_PYTHON") {
        return p.into();
    }
    let venv = workspace().join(".venv-moto/bin/python");
    assert!(venv.exists(), "moto is not installed: run scripts/install-deps.sh --test (or set KEYWARD_MOTO_PYTHON)");
    venv
}

impl MotoEstate {
    /// Starts moto with an estate of `users` IAM users; `extra` are more estate.py flags.
    pub fn start(users: usize, seed: u64, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let truth_path = dir.path().join("truth.json");
        let mut child = Command::new(moto_python())
            .arg(workspace().join("tests/moto/estate.py"))
            .args(["--users", &users.to_string(), "--seed", &seed.to_string(), "--truth"])
            .arg(&truth_path)
            .args(extra)
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start moto estate");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap_or_else(|| panic!("estate.py said {line:?}")).to_owned();
        let truth = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let stdin = child.stdin.take();
        Self { child, stdin, stdout, endpoint: format!("http://127.0.0.1:{port}"), truth, _dir: dir }
    }

    /// Sends a command to the harness (`delete_key USER KEY`, `deactivate_key USER KEY`) and
    /// waits for its `OK`.
    pub fn tell(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "OK", "estate.py answered {line:?} to {command:?}");
    }

    /// How many requests the estate refused with `Throttling` (`--throttle`).
    pub fn throttled(&mut self) -> u64 {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "throttled").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().strip_prefix("THROTTLED ").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line:?}"))
    }

    /// The access keys IAM holds for `user` now: (id, active).
    pub fn keys_of(&mut self, user: &str) -> Vec<(String, bool)> {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "keys {user}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let listed = line.trim().strip_prefix("KEYS").unwrap_or_else(|| panic!("estate.py answered {line:?}"));
        listed
            .split_whitespace()
            .map(|k| {
                let (id, status) = k.split_once(':').unwrap();
                (id.to_owned(), status == "Active")
            })
            .collect()
    }

    /// The REST API keys API Gateway holds in `region` now (`--apigateway`), read from moto's
    /// backend: `id`, `name`, `enabled`, `value`, `description`, `customer_id`, `tags`,
    /// `stage_keys`, `created` and `plans` (the usage plans holding it).
    pub fn api_keys(&mut self, region: &str) -> Vec<serde_json::Value> {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "apikeys {region}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let listed = line.trim().strip_prefix("APIKEYS ").unwrap_or_else(|| panic!("estate.py answered {line:?}"));
        serde_json::from_str(listed).unwrap()
    }

    /// Points a home's CLI at this moto with the operator's key pair (`--operator`), which
    /// `--auth` checks like AWS does.
    pub fn configure_operator(&self, home: &mut Home) {
        self.configure(home);
        let op = &self.truth["operator"];
        home.set_env("AWS_ACCESS_KEY_ID", op["access_key_id"].as_str().expect("started with --operator"));
        home.set_env("AWS_SECRET_ACCESS_KEY", op["secret_access_key"].as_str().unwrap());
    }

    /// Points a home's CLI at this moto with dummy credentials.
    pub fn configure(&self, home: &mut Home) {
        home.set_env("AWS_ENDPOINT_URL", &self.endpoint);
        home.set_env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
        home.set_env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        home.set_env("AWS_REGION", "us-east-1");
        // No profile files or instance metadata from the machine running the tests.
        home.set_env("AWS_CONFIG_FILE", "/nonexistent");
        home.set_env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
        home.set_env("AWS_EC2_METADATA_DISABLED", "true");
    }
}

impl Drop for MotoEstate {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs `command` (a shell line) on a real terminal (`script` gives it one) with
/// `KEYWARD_PASSPHRASE` and `KEYWARD_HOME` unset and `env` set; once the screen shows `prompt`,
/// types `typed` and Enter. Returns the exit status and everything the terminal showed.
pub fn on_terminal(
    command: &str,
    env: &[(&str, &str)],
    prompt: &str,
    typed: &str,
) -> (std::process::ExitStatus, String) {
    use std::io::Read as _;
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .env_remove("KEYWARD_PASSPHRASE")
        .env_remove("KEYWARD_HOME")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut screen_out = child.stdout.take().unwrap();
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let screen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = screen_out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    // Typed only once the prompt is there: the terminal would echo what came earlier.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !contains(&screen.lock().unwrap(), prompt.as_bytes()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt: {:?}",
            String::from_utf8_lossy(&screen.lock().unwrap())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{typed}\n").as_bytes()).unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let shown = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    (status, shown)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
