//! Benchmark (not a test): the desktop app in a real window against a bare Tauri window (same
//! Tauri, WebKit, config and window size, nothing of Keyward: `src-tauri/examples/bare_window.rs`),
//! both measured by this program in the same run:
//!
//! - **cold start**: the app started as a user starts it, from the process's start (the kernel's
//!   start time) to the inventory's rows painted (the page's `keyward:ready` mark, which the shell
//!   logs), with 10,000 keys and with 100,000; for the bare window, to its page painted. Once more
//!   under WebDriver, which the measures in the window need;
//! - **memory**: RSS and PSS summed over every process of the app (the shell, WebKit's web and
//!   network processes, anything they start), 3 s after it has loaded everything;
//! - **in the window, over 100,000 keys**: a keystroke in the search box to the filtered rows
//!   painted, and a click on a column header to the sorted rows painted.
//!
//! Run it with:
//!
//! ```sh
//! make desktop
//! cargo build --release -p keyward-desktop --example bare_window
//! scripts/with-test-session.sh cargo bench -p keyward-tests --bench window -- [RUNS] [KEYS...] [starts]
//! ```
//!
//! `starts` measures the direct starts and their memory alone (no WebDriver; ~10 s a run). For a
//! closer look at memory:
//!
//! - `KEYWARD_BENCH_APP=PATH`: another build of the app (a variant kept aside) instead of the one
//!   in the target dir;
//! - `KEYWARD_BENCH_SETTLE=SECS`: how long after loading the memory is read (3 s);
//! - `KEYWARD_BENCH_SMAPS=DIR`: each process's mappings are copied there,
//!   `scripts/smaps-summary.py DIR/*.smaps` sums them by what is mapped;
//! - `KEYWARD_BENCH_APP_ENV="NAME=VALUE ..."`: variables for the app alone, not the bare window,
//!   in its direct starts (not under WebDriver; `JSC_logGC=1`: JavaScriptCore's collections and
//!   heap sizes);
//! - `KEYWARD_BENCH_STDERR=1`: the app's log (its web process's too) echoed.
//!
//! The vaults are real: keys synced by the CLI from the providers' stand-ins (Datadog, Fastly and
//! New Relic, a third each), then audited; the vault's key is in the session's keychain, so the
//! app opens it at start as on a desktop (no passphrase, no KDF).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keyward_fakes::estate::Estate;
use keyward_tests::webdriver::{Driver, Session, start_driver, tauri_driver};
use keyward_tests::{Home, built_binary};

/// The WebKit setting Keyward's shell makes for itself (`src-tauri/src/main.rs`).
const WEBKIT_PAINTING: &str = "WEBKIT_SKIA_GPU_PAINTING_THREADS";

fn main() {
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    // `starts`: the direct starts and their memory alone, none of the measures under WebDriver.
    let starts_only = std::env::args().any(|a| a == "starts");
    let runs = numbers.first().copied().unwrap_or(3);
    let sizes = if numbers.len() > 1 { numbers[1..].to_vec() } else { vec![10_000, 100_000] };
    let largest = sizes.iter().copied().max().unwrap_or(0);
    assert!(std::env::var_os("DISPLAY").is_some(), "no display: run under scripts/with-test-session.sh");
    let app =
        std::env::var_os("KEYWARD_BENCH_APP").map(PathBuf::from).unwrap_or_else(|| built_binary("keyward-desktop"));
    let bare = built_binary("examples/bare_window");
    let rt = tokio::runtime::Runtime::new().unwrap();

    let mut rows = Vec::new();
    let empty = Home::new();
    let bare_runs: Vec<Start> = (0..runs).map(|_| direct_start(&empty, &bare, false, &[])).collect();
    // The bare window given the WebKit setting Keyward's shell makes for itself (`src-tauri`'s
    // `main.rs`): what of Keyward's lead over the bare window that setting alone gives.
    let bare_as_keyward: Vec<Start> =
        (0..runs).map(|_| direct_start(&empty, &bare, false, &[(WEBKIT_PAINTING, "0")])).collect();
    let bare_as_keyward = Start::median(&bare_as_keyward);
    let bare_start = Start::median(&bare_runs);
    if starts_only {
        for &keys in &sizes {
            let (home, _estate) = workspace(&rt, keys);
            let starts: Vec<Start> = (0..runs).map(|_| direct_start(&home, &app, true, &[])).collect();
            let s = Start::median(&starts);
            println!(
                "| {keys} keys, {runs} runs, median | {:.0} ms | RSS {:.0} MiB ({:.2}×; {:.2}× the bare window as Keyward sets WebKit) | PSS {:.0} MiB ({:.2}×; {:.2}×) |",
                s.ready_ms,
                s.rss_kib / 1024.0,
                s.rss_kib / bare_start.rss_kib,
                s.rss_kib / bare_as_keyward.rss_kib,
                s.pss_kib / 1024.0,
                s.pss_kib / bare_start.pss_kib,
                s.pss_kib / bare_as_keyward.pss_kib,
            );
        }
        return;
    }
    let driver = tauri_driver().expect("tauri-driver is not installed (scripts/install-deps.sh --test)");
    let (automated, open) = cold_start(&driver, &empty, &bare, false);
    let floor = frame_floor(&open.session);
    drop(open);
    rows.push(("bare Tauri window".to_owned(), bare_start.clone(), automated));

    let mut in_window = None;
    for &keys in &sizes {
        let (home, _estate) = workspace(&rt, keys);
        let starts: Vec<Start> = (0..runs).map(|_| direct_start(&home, &app, true, &[])).collect();
        let (automated, open) = cold_start(&driver, &home, &app, true);
        if keys == largest {
            in_window = Some(interact(&open.session));
        }
        drop(open);
        let mut start = Start::median(&starts);
        start.keys = automated.keys;
        rows.push((format!("Keyward, {} keys", automated.keys), start, automated));
    }

    println!(
        "\n| {runs} runs, median | cold start to painted | the same under WebDriver (1 run) | RSS, all processes | PSS, all processes |"
    );
    println!("|---|---|---|---|---|");
    for (what, s, automated) in &rows {
        println!(
            "| {what} | {:.0} ms | {:.0} ms | {:.0} MiB ({:.2}×) | {:.0} MiB ({:.2}×) |",
            s.ready_ms,
            automated.ready_ms,
            s.rss_kib / 1024.0,
            s.rss_kib / bare_start.rss_kib,
            s.pss_kib / 1024.0,
            s.pss_kib / bare_start.pss_kib
        );
    }
    println!(
        "\nThe bare window given Keyward's WebKit setting ({WEBKIT_PAINTING}=0): RSS {:.0} MiB, PSS {:.0} MiB; against it:",
        bare_as_keyward.rss_kib / 1024.0,
        bare_as_keyward.pss_kib / 1024.0
    );
    for (what, s, _) in rows.iter().skip(1) {
        println!(
            "- {what}: RSS {:.2}×, PSS {:.2}×",
            s.rss_kib / bare_as_keyward.rss_kib,
            s.pss_kib / bare_as_keyward.pss_kib
        );
    }
    println!(
        "\n| the start's steps, ms from the process's start, median | page begins | rows painted | data loaded | under WebDriver: app runs | vault state known |"
    );
    println!("|---|---|---|---|---|---|");
    for (what, s, automated) in &rows {
        let ms = |v: f64| if v.is_nan() { "—".to_owned() } else { format!("{v:.0}") };
        println!(
            "| {what} | {} | {:.0} | {} | {} | {} |",
            ms(s.steps[0]),
            s.ready_ms,
            ms(s.steps[3]),
            ms(automated.steps[1]),
            ms(automated.steps[2]),
        );
    }
    println!(
        "\nThe bare window's floor: a paragraph's text changed, to painted, median of {} (ms): {:.1} / {:.1} / {:.1}",
        floor.len(),
        median(&floor.iter().map(|t| t.handler).collect::<Vec<_>>()),
        median(&floor.iter().map(|t| t.task).collect::<Vec<_>>()),
        median(&floor.iter().map(|t| t.painted).collect::<Vec<_>>()),
    );
    if let Some(w) = in_window {
        println!(
            "\nIn the window, {largest} keys (ms: the event's own handler / to the rows' arrival from the shell / to the rows painted):"
        );
        let column = |f: fn(&Timing) -> f64| w.keystrokes.iter().map(f).collect::<Vec<_>>();
        let (handler, task, painted) = (column(|t| t.handler), column(|t| t.task), column(|t| t.painted));
        println!(
            "- a keystroke, {} of them: median {:.1} / {:.1} / {:.1}, slowest {:.1} / {:.1} / {:.1}",
            w.keystrokes.len(),
            median(&handler),
            median(&task),
            median(&painted),
            max(&handler),
            max(&task),
            max(&painted)
        );
        for (what, t) in &w.sorts {
            println!("- sort by {what}: {:.1} / {:.1} / {:.1}", t.handler, t.task, t.painted);
        }
        println!("- Findings opened, to its first page painted: {:.0}", w.findings);
        println!("\nThe start's listings, each alone in the window ({largest} keys):");
        for (command, ms, bytes) in &w.listings {
            println!("- {command}: {ms:.0} ms, {:.1} MB of JSON", bytes / 1e6);
        }
    }
}

/// What one cold start measured.
#[derive(Clone)]
struct Start {
    ready_ms: f64,
    rss_kib: f64,
    pss_kib: f64,
    keys: usize,
    /// From the process's start, in ms: the page's navigation, and the app's marks
    /// `keyward:mounted`, `keyward:status` (under WebDriver only), `keyward:data` (NaN where a
    /// page has none).
    steps: [f64; 4],
}

impl Start {
    fn median(runs: &[Start]) -> Start {
        let pick = |f: fn(&Start) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Start {
            ready_ms: pick(|s| s.ready_ms),
            rss_kib: pick(|s| s.rss_kib),
            pss_kib: pick(|s| s.pss_kib),
            steps: std::array::from_fn(|i| median(&runs.iter().map(|s| s.steps[i]).collect::<Vec<_>>())),
            keys: runs[0].keys,
        }
    }
}

/// Starts `binary` as a user does (no WebDriver), reads when its page began, painted its rows and
/// (`inventory`: Keyward's page) loaded everything from the lines its shell logs
/// (`keyward_desktop::startup`, see `window_started`; the bare window writes the same), lets it
/// settle 3 s and reads its memory.
fn direct_start(home: &Home, binary: &Path, inventory: bool, env: &[(&str, &str)]) -> Start {
    // Variables for the app alone (`KEYWARD_BENCH_APP_ENV`), to try a setting against the bare
    // window as it is.
    let app_env: Vec<(String, String)> = if inventory {
        let pairs = std::env::var("KEYWARD_BENCH_APP_ENV").unwrap_or_default();
        pairs.split_whitespace().filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    } else {
        vec![]
    };
    let mut child = Command::new(binary)
        .envs(env.iter().copied())
        .envs(app_env)
        .env("KEYWARD_HOME", home.path())
        .envs(home.env.iter().filter(|(k, _)| k != "KEYWARD_PASSPHRASE").map(|(k, v)| (k, v)))
        .env_remove("KEYWARD_PASSPHRASE")
        .env("KEYWARD_LOG", "warn,keyward_desktop::startup=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the app");
    let pid = child.id();
    let started = process_start_ms(pid);
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let line = plain(&line);
            if std::env::var_os("KEYWARD_BENCH_STDERR").is_some() {
                eprintln!("  app: {line}");
            }
            let Some(rest) = line.split("keyward_desktop::startup: ").nth(1) else { continue };
            let field = |name: &str| {
                rest.split([' ', ':'])
                    .find_map(|w| w.strip_prefix(name))
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(f64::NAN)
            };
            let step = rest.split(' ').next().unwrap_or_default().to_owned();
            if tx.send((step, field("began="), field("at="))).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut began, mut ready, mut loaded) = (f64::NAN, f64::NAN, f64::NAN);
    while ready.is_nan() || (inventory && loaded.is_nan()) {
        let left = deadline.saturating_duration_since(Instant::now());
        let (step, page, at) = rx.recv_timeout(left).unwrap_or_else(|_| panic!("{} was never ready", binary.display()));
        began = page;
        match step.as_str() {
            "Rows" => ready = at,
            "Loaded" => loaded = at,
            _ => {}
        }
    }
    std::thread::sleep(settle());
    let (rss_kib, pss_kib) = memory(&descendants(pid));
    let each: Vec<String> = descendants(pid)
        .into_iter()
        .map(|p| {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            let (rss, pss) = memory(&[p]);
            format!("{} {:.0}/{:.0}", name.trim(), rss / 1024.0, pss / 1024.0)
        })
        .collect();
    eprintln!("  by process, RSS/PSS MiB: {}", each.join(", "));
    if let Some(dir) = std::env::var_os("KEYWARD_BENCH_SMAPS") {
        // For a closer look: each process's mappings (`scripts/smaps-summary.py` sums them).
        for p in descendants(pid) {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            let name: String = name.trim().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            let to = Path::new(&dir).join(format!("{name}-{p}.smaps"));
            if let Err(e) = std::fs::copy(format!("/proc/{p}/smaps"), &to) {
                eprintln!("  no copy of process {p}'s mappings: {e}");
            }
        }
    }
    for p in descendants(pid).into_iter().rev() {
        let _ = Command::new("kill").arg(p.to_string()).status();
    }
    let _ = child.wait();
    let start = Start {
        ready_ms: ready - started,
        rss_kib,
        pss_kib,
        keys: 0,
        steps: [began - started, f64::NAN, f64::NAN, loaded - started],
    };
    eprintln!(
        "{}: rows painted after {:.0} ms, everything loaded after {:.0} ms, RSS {:.0} MiB, PSS {:.0} MiB",
        binary.file_name().unwrap().to_string_lossy(),
        start.ready_ms,
        start.steps[3],
        rss_kib / 1024.0,
        pss_kib / 1024.0,
    );
    start
}

/// A home whose vault holds `keys` keys synced from the stand-ins and audited, every scheduled
/// job off (a sync at start would be measured too), opened through the keychain.
fn workspace(rt: &tokio::runtime::Runtime, keys: usize) -> (Home, Estate) {
    let t = Instant::now();
    let estate = rt.block_on(Estate::start(chrono::Utc::now(), keys / 3)).unwrap();
    let mut home = Home::new();
    home.env.clear(); // no passphrase: the vault's key goes to the session's keychain
    home.ok(&["init"]);
    let credentials = |fields: &[(&str, String)]| fields.iter().map(|(k, v)| format!("{k}={v}\n")).collect::<String>();
    let add = |provider: &str, extra: &[&str], fields: &[(&str, String)]| {
        let mut args = vec!["connector", "add", provider, "--name", provider, "--credentials-stdin"];
        args.extend_from_slice(extra);
        let out = home.run_with_input(&args, &credentials(fields));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    add("datadog", &["--endpoint", &estate.datadog.url()], &estate.datadog_credentials.fields);
    add("fastly", &["--endpoint", &estate.fastly.url()], &estate.fastly_credentials.fields);
    let accounts = estate.newrelic_accounts.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",");
    let graphql = format!("{}/graphql", estate.newrelic.url());
    add("newrelic", &["--endpoint", &graphql, "--account-id", &accounts], &estate.newrelic_credentials.fields);
    home.ok(&["sync"]);
    home.ok(&["audit"]);
    for job in home.json(&["schedule", "list", "--json"]).as_array().unwrap() {
        home.ok(&["schedule", "set", job["id"].as_str().unwrap(), "--disable"]);
    }
    eprintln!("workspace of {keys} keys made in {:.1} s", t.elapsed().as_secs_f64());
    (home, estate)
}

/// An app still open after its cold start: the session ends (and the app with it) before its
/// driver (fields drop in order).
struct Open {
    session: Session,
    _driver: Driver,
}

/// Starts `binary` through a fresh tauri-driver (for the measures only a script in the page can
/// take), waits for its `keyward:ready` mark, lets it settle and reads its memory. `inventory`: the page is Keyward's (its key count is read).
fn cold_start(driver: &Path, home: &Home, binary: &Path, inventory: bool) -> (Start, Open) {
    let (tauri_driver, url) = start_driver(driver, home);
    let session = Session::start(&url, binary).expect("webdriver session");
    let pid = app_process(tauri_driver.pid(), binary);
    let started = process_start_ms(pid);
    let deadline = Instant::now() + Duration::from_secs(120);
    let ready = loop {
        let at = session
            .execute(
                "const m = performance.getEntriesByName('keyward:ready')[0];
                 return m ? (performance.timeOrigin || (Date.now() - performance.now())) + m.startTime : null;",
            )
            .unwrap();
        if let Some(at) = at.as_f64() {
            break at;
        }
        assert!(Instant::now() < deadline, "{} was never ready", binary.display());
        std::thread::sleep(Duration::from_millis(50));
    };
    // Memory and the window's speed are read once everything has loaded: the app draws the keys
    // first and loads the rest behind them (`keyward:data`).
    while inventory
        && session.execute("return performance.getEntriesByName('keyward:data').length;").unwrap().as_u64() == Some(0)
    {
        assert!(Instant::now() < deadline, "{} never loaded its data", binary.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let marks = session
        .execute(
            "const origin = performance.timeOrigin || (Date.now() - performance.now());
             const at = (name) => { const m = performance.getEntriesByName(name)[0]; return m ? origin + m.startTime : null; };
             return [origin, at('keyward:mounted'), at('keyward:status'), at('keyward:data')];",
        )
        .unwrap();
    let steps: [f64; 4] = std::array::from_fn(|i| marks[i].as_f64().map_or(f64::NAN, |at| at - started));
    let keys = if inventory {
        let count = session.find_all("[data-testid=key-count]").unwrap();
        let text = session.text(&count[0]).unwrap();
        text.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)
    } else {
        0
    };
    std::thread::sleep(settle());
    let (rss_kib, pss_kib) = memory(&descendants(pid));
    let start = Start { ready_ms: ready - started, rss_kib, pss_kib, keys, steps };
    eprintln!(
        "{}: ready after {:.0} ms, RSS {:.0} MiB, PSS {:.0} MiB{}",
        binary.file_name().unwrap().to_string_lossy(),
        start.ready_ms,
        rss_kib / 1024.0,
        pss_kib / 1024.0,
        if inventory { format!(", {keys} keys") } else { String::new() }
    );
    (start, Open { session, _driver: tauri_driver })
}

/// What the window measured over its inventory.
struct InWindow {
    listings: Vec<(String, f64, f64)>,
    /// Findings opened: from the click to its first page painted, in ms.
    findings: f64,
    keystrokes: Vec<Timing>,
    sorts: Vec<(String, Timing)>,
}

/// One event's cost in the page, in ms from its dispatch: its handler's own run; then, for the
/// inventory, to the rows' arrival from the shell (which filters and sorts them) and, for the bare
/// page's floor, to the next task; and to the rows painted (a `setTimeout` from a
/// `requestAnimationFrame` runs once the next frame is drawn; this includes waiting for that
/// frame, up to 16 ms).
struct Timing {
    handler: f64,
    task: f64,
    painted: f64,
}

impl Timing {
    fn of(v: &serde_json::Value) -> Timing {
        let at = |i: usize| v[i].as_f64().unwrap_or(f64::NAN);
        Timing { handler: at(0), task: at(1), painted: at(2) }
    }
}

/// The inventory's script around a dispatch (`{dispatch}`, after `t0`): its handler's own run, the
/// rows' arrival from the shell (the table says `aria-busy` until they come; a change that asks
/// for none counts at the next task), and the rows painted.
const ROWS_PAINTED: &str = "const grid = document.querySelector('[data-testid=keys-table]');
     let handler = null; let finished = false;
     // Busy already (a refresh): its end counts too.
     let busy = grid.getAttribute('aria-busy') === 'true';
     const finish = () => {
       if (finished) return;
       finished = true;
       watch.disconnect();
       const rows = performance.now() - t0;
       requestAnimationFrame(() => setTimeout(() => done([handler, rows, performance.now() - t0])));
     };
     const watch = new MutationObserver(() => {
       if (grid.getAttribute('aria-busy') === 'true') busy = true;
       else if (busy) finish();
     });
     watch.observe(grid, { attributes: true, attributeFilter: ['aria-busy'] });
     {dispatch}
     handler = performance.now() - t0;
     setTimeout(() => { if (grid.getAttribute('aria-busy') !== 'true') finish(); }, 0);";

/// The script's end, after `t0` and the dispatch: see [`Timing`].
const PAINTED: &str = "const handler = performance.now() - t0; let task = null;
     setTimeout(() => { task = performance.now() - t0; }, 0);
     requestAnimationFrame(() => setTimeout(() => done([handler, task, performance.now() - t0])));";

/// The listings the window loads at start, each asked alone once the app is ready: its time in
/// the page (the command, the JSON across the IPC, its parsing) and its size.
fn listings(session: &Session) -> Vec<(String, f64, f64)> {
    let commands = [
        "load_key_table",
        "list_findings",
        "list_practices",
        "list_exposures",
        "list_shadow_keys",
        "list_not_keys",
        "verify_activity_log",
        "list_rotations",
    ];
    // A key's own page: its story (findings, its owner's too, history, consumers, rotations).
    let detail = session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const invoke = window.__TAURI_INTERNALS__.invoke;
             invoke('load_key_table').then(async (table) => {
               // A key with an owner (its owner's findings are read too), past the trim that
               // follows the listing; the median of five.
               const page = await invoke('key_table_rows', {
                 filter: {}, sort: { column: 'name', descending: false }, first: table.counts.total >> 1, count: 100 });
               const key = page.rows.find((k) => k.owner) ?? page.rows[0];
               await new Promise((r) => setTimeout(r, 2500));
               const times = [];
               let size = 0;
               for (let i = 0; i < 5; i++) {
                 const t0 = performance.now();
                 size = JSON.stringify(await invoke('key_detail', { id: key.id })).length;
                 times.push(performance.now() - t0);
               }
               times.sort((a, b) => a - b);
               done([times[2], size]);
             }).catch(() => done([-1, 0]));",
        )
        .unwrap();
    let detail =
        ("key_detail (one key)".to_owned(), detail[0].as_f64().unwrap_or(f64::NAN), detail[1].as_f64().unwrap_or(0.0));
    commands
        .iter()
        .map(|command| {
            let v = session
                .execute_async(&format!(
                    "const done = arguments[arguments.length - 1];
                     const t0 = performance.now();
                     window.__TAURI_INTERNALS__.invoke('{command}').then(
                       (r) => done([performance.now() - t0, JSON.stringify(r).length]),
                       (e) => done([-1, 0]));"
                ))
                .unwrap();
            ((*command).to_owned(), v[0].as_f64().unwrap_or(f64::NAN), v[1].as_f64().unwrap_or(0.0))
        })
        .chain(std::iter::once(detail))
        .collect()
}

/// The least a change costs to reach the screen in this window system: the bare page's paragraph
/// given a new text, timed as the inventory's keystrokes are (see [`Timing`]).
fn frame_floor(session: &Session) -> Vec<Timing> {
    (0..11)
        .map(|i| {
            let v = session
                .execute_async(&format!(
                    "const done = arguments[arguments.length - 1];
                     const p = document.querySelector('p');
                     const t0 = performance.now();
                     p.textContent = 'A bare Tauri window, changed {i}.';
                     {PAINTED}"
                ))
                .unwrap();
            Timing::of(&v)
        })
        .collect()
}

fn interact(session: &Session) -> InWindow {
    // Typed as a user would, a letter at a time, then erased.
    let word = "datadog api";
    let mut keystrokes = Vec::new();
    let typed: Vec<String> = (1..=word.len())
        .map(|n| word[..n].to_owned())
        .chain((0..word.len()).rev().map(|n| word[..n].to_owned()))
        .collect();
    for text in &typed {
        let dispatch = format!(
            "input.value = {text:?};
             input.dispatchEvent(new Event('input', {{ bubbles: true }}));"
        );
        let script = ROWS_PAINTED.replace("{dispatch}", &dispatch);
        let ms = session
            .execute_async(&format!(
                "const done = arguments[arguments.length - 1];
                 const input = document.querySelector('[data-testid=filter]');
                 const t0 = performance.now();
                 {script}"
            ))
            .unwrap();
        keystrokes.push(Timing::of(&ms));
    }
    let shown = session.text(&session.find_all("[data-testid=key-count]").unwrap()[0]).unwrap();
    assert!(!shown.contains(" of "), "the search was erased: every key shows again ({shown})");
    let mut sorts = Vec::new();
    for (column, what) in [
        ("risk", "risk, ascending"),
        ("risk", "risk, descending"),
        ("name", "name"),
        ("age", "age"),
        ("last_used", "last use"),
    ] {
        let script = ROWS_PAINTED.replace("{dispatch}", "header.click();");
        let ms = session
            .execute_async(&format!(
                "const done = arguments[arguments.length - 1];
                 const header = document.querySelector('[data-testid=sort-{column}]');
                 const t0 = performance.now();
                 {script}"
            ))
            .unwrap();
        sorts.push((what.to_owned(), Timing::of(&ms)));
    }
    let listings = listings(session);
    // The Findings view lists its findings when it opens, and draws the first page of them.
    let findings = session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const t0 = performance.now();
             document.querySelector('[data-testid=tab-findings]').click();
             const poll = () => document.querySelector('[data-testid=findings-table]')
               ? requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0)))
               : setTimeout(poll, 5);
             poll();",
        )
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN);
    InWindow { listings, keystrokes, sorts, findings }
}

/// The process running `binary` among `root`'s descendants (the driver starts WebKitWebDriver,
/// which starts the app).
fn app_process(root: u32, binary: &Path) -> u32 {
    let want = binary.canonicalize().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = descendants(root)
            .into_iter()
            .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == want));
        if let Some(pid) = found {
            return pid;
        }
        assert!(Instant::now() < deadline, "{} never started", binary.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `line` without terminal colour codes (`ESC [ ... m`).
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// `root` and every process below it.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1).and_then(|p| p.parse().ok())) else { continue };
        children.entry(ppid).or_default().push(pid);
    }
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        all.extend(children.get(&all[i]).into_iter().flatten());
        i += 1;
    }
    all
}

/// The fields of `/proc/PID/stat` after the command name (which may hold spaces and parentheses):
/// state is [0], the parent [1], the start time (clock ticks after boot) [19].
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat[stat.rfind(')')? + 2..].split(' ').map(str::to_owned).collect())
}

/// When `pid` started, in ms since the epoch, to the kernel's clock tick (10 ms here). The boot
/// time is taken as now less the uptime: `/proc/stat`'s `btime` is whole seconds, and its
/// dropped fraction (0.93 s on one boot) was once counted into every start measured here.
fn process_start_ms(pid: u32) -> f64 {
    let ticks: f64 = stat_fields(pid).unwrap()[19].parse().unwrap();
    let hz: f64 = String::from_utf8(Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let uptime: f64 =
        std::fs::read_to_string("/proc/uptime").unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    (now - uptime + ticks / hz) * 1000.0
}

/// How long after loading the memory is read: `KEYWARD_BENCH_SETTLE` seconds, else 3.
fn settle() -> Duration {
    let secs = std::env::var("KEYWARD_BENCH_SETTLE").ok().and_then(|s| s.parse::<f64>().ok());
    Duration::from_secs_f64(secs.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(3.0))
}

/// RSS and PSS summed over `pids`, in KiB (`/proc/PID/smaps_rollup`).
fn memory(pids: &[u32]) -> (f64, f64) {
    let mut rss = 0.0;
    let mut pss = 0.0;
    for pid in pids {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { continue };
        for line in rollup.lines() {
            let kib = || line.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0);
            if line.starts_with("Rss:") {
                rss += kib();
            } else if line.starts_with("Pss:") {
                pss += kib();
            }
        }
    }
    (rss, pss)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::MIN, f64::max)
}
