//! `keyward scan`, `scan-config`, `exposures`, `shadow`: the exposure sweep on the command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use clap::{Args, Subcommand};
use keyward_core::api::{self, Home, ScanRequest};

use crate::output;

#[derive(Args)]
pub struct ScanArgs {
    /// Files or folders to scan [default: ~/.aws, shell histories, ~/.config, ~/.netrc, ~/.npmrc,
    /// ~/.pypirc, ~/.docker/config.json, ~/.kube/config, and the folders of `scan-config`]
    pub paths: Vec<PathBuf>,
    /// Also read every blob in the history of git repositories under the paths
    #[arg(long)]
    pub git_history: bool,
    /// Leave out paths matching this .gitignore-style pattern (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Skip files larger than this many MiB [default: 32]
    #[arg(long, value_name = "MIB")]
    pub max_file_size: Option<u64>,
    /// Print the hits as a JSON array (secrets are never printed: tokens are redacted)
    #[arg(long)]
    pub json: bool,
    /// Skip the audit that follows the scan (it raises findings for exposed and unknown keys)
    #[arg(long)]
    pub no_audit: bool,
    /// Send notifications (desktop is the app's; here: webhooks) of new exposure findings
    #[arg(long, conflicts_with = "no_audit")]
    pub notify: bool,
    /// Then check whether the unknown keys found work, for the providers `scan-config
    /// --verify-consent` allows (one harmless read each, logged in `keyward log`)
    #[arg(long)]
    pub verify: bool,
}

#[derive(Args)]
pub struct ScanConfigArgs {
    /// Add a project folder to the default scan
    #[arg(long, value_name = "PATH")]
    add_folder: Vec<PathBuf>,
    /// Remove a project folder
    #[arg(long, value_name = "PATH")]
    remove_folder: Vec<PathBuf>,
    /// Add a .gitignore-style exclude pattern
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Remove an exclude pattern
    #[arg(long, value_name = "PATTERN")]
    remove_exclude: Vec<String>,
    /// Whether the scheduled scan reads git history
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    git_history: Option<String>,
    /// Allow sending found keys of this provider to it, to check whether they work (aws,
    /// datadog, fastly, linear, newrelic)
    #[arg(long, value_name = "PROVIDER")]
    verify_consent: Vec<String>,
    /// Withdraw that consent
    #[arg(long, value_name = "PROVIDER")]
    no_verify_consent: Vec<String>,
    /// Print the settings as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum ShadowCmd {
    /// Keys found in files that Keyward does not manage
    List {
        /// Print a JSON array
        #[arg(long)]
        json: bool,
    },
    /// Say which inventoried key a found key is: its places become that key's consumers
    Link {
        /// The shadow key's id
        id: String,
        /// Keyward's key id (see `keys list`)
        key: String,
    },
    /// Not a key to manage (a fixture, someone else's): no more findings for it
    Dismiss {
        /// The shadow key's id
        id: String,
    },
    /// Ask the provider whether a found key works (needs `scan-config --verify-consent PROVIDER`)
    Verify {
        /// The shadow key's id
        id: String,
    },
    /// Not a key at all (an id, a hash that looks like one): removed, and later scans leave it out
    #[command(name = "not-a-key")]
    NotAKey {
        /// The shadow key's id
        id: String,
    },
    /// The tokens marked not a key
    #[command(name = "not-keys")]
    NotKeys {
        /// Print a JSON array
        #[arg(long)]
        json: bool,
    },
    /// Take a token off the not-a-key list: the next scan reports it again
    #[command(name = "is-a-key")]
    IsAKey {
        /// Its id on the list (see `shadow not-keys`)
        id: i64,
    },
}

/// Where liveness checks go: the providers' public APIs, or `KEYWARD_VERIFY_URL_<PROVIDER>`
/// (a proxy, a stand-in). AWS also honours `AWS_ENDPOINT_URL`.
fn endpoints() -> api::Endpoints {
    api::verifiable()
        .iter()
        .filter_map(|p| {
            std::env::var(format!("KEYWARD_VERIFY_URL_{}", p.to_uppercase())).ok().map(|u| ((*p).to_owned(), u))
        })
        .collect()
}

fn print_checked(results: &[(String, Result<api::ShadowKeyView, keyward_core::Error>)]) {
    for (id, r) in results {
        match r {
            Ok(v) => {
                eprintln!("checked {} {} {}: {}", v.provider, v.redacted, id, v.verify_result.as_deref().unwrap_or("-"))
            }
            Err(e) => eprintln!("could not check {id}: {e}"),
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn scan(home: &Home, args: ScanArgs) -> anyhow::Result<()> {
    let mut vault = crate::open(home)?;
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let last = std::sync::Mutex::new(Instant::now());
    let progress = |p: keyward_core::api::ScanProgress| {
        let mut last = last.lock().expect("progress");
        // On a terminal the line updates in place; otherwise (a log, CI) a line every 2 s.
        if tty {
            eprint!("\r\x1b[2Kscanning: {} files, {}, {} hits", p.files, mib(p.bytes), p.hits);
        } else if last.elapsed().as_secs() >= 2 {
            *last = Instant::now();
            eprintln!("scanning: {} files, {}, {} hits", p.files, mib(p.bytes), p.hits);
        }
    };
    let request = ScanRequest {
        paths: args.paths,
        git_history: args.git_history,
        excludes: args.exclude,
        max_file_size: args.max_file_size.map(|m| m * 1024 * 1024),
    };
    let view = api::scan(home, &mut vault, &request, &progress, &AtomicBool::new(false))?;
    if tty {
        eprint!("\r\x1b[2K");
    }
    let secs = started.elapsed().as_secs_f64();
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    eprintln!(
        "scanned {}, {} in {secs:.1} s ({:.0} MiB/s): {}, {} new, {} gone; skipped {} binary, {} too large, {} out of the paths, {}",
        count(view.files, "file", "files"),
        mib(view.bytes),
        view.bytes as f64 / (1024.0 * 1024.0) / secs.max(0.001),
        count(view.hits.len() as u64, "hit", "hits"),
        view.new,
        view.gone,
        view.binary,
        view.too_large,
        count(view.symlinks_out, "symlink", "symlinks"),
        count(view.special, "special file", "special files"),
    );
    // File names are the scanned tree's, chosen by whoever wrote it: shown, never obeyed.
    let safe = crate::output::terminal_safe;
    for m in &view.missing {
        eprintln!("warning: {} does not exist", safe(m));
    }
    for (p, e) in &view.errors {
        eprintln!("warning: could not read {}: {}", safe(p), safe(e));
    }
    if view.not_keys > 0 {
        eprintln!(
            "left out {}: marked not a key (`keyward shadow not-keys`)",
            count(view.not_keys as u64, "hit", "hits")
        );
    }
    let guesses = view.hits.iter().filter(|h| h.confidence == api::Confidence::Low).count();
    if guesses > 0 {
        eprintln!(
            "{} a guess (SURE low: a provider's shape, the provider named only elsewhere on the line or a few lines away): `keyward shadow link` confirms one, `keyward shadow not-a-key` dismisses it for good",
            count(guesses as u64, "hit is", "hits are")
        );
    }
    if view.error_count > view.errors.len() as u64 {
        eprintln!("warning: {} more files could not be read", view.error_count - view.errors.len() as u64);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view.hits)?);
    } else {
        output::hits(&view.hits);
    }
    if args.verify {
        let results = crate::runtime()?.block_on(api::verify_shadow_keys(&mut vault, &endpoints()))?;
        print_checked(&results);
    }
    if args.notify {
        let summary = crate::runtime()?.block_on(api::audit_and_notify(
            home,
            &mut vault,
            chrono::Utc::now(),
            None,
            Default::default(),
        ))?;
        eprintln!("audit: {summary}");
    } else if !args.no_audit {
        let report = api::run_audit(home, &mut vault, chrono::Utc::now())?;
        let exposed = report
            .findings
            .iter()
            .filter(|f| f.rule_id == "key_exposed_in_file" || f.rule_id == "unknown_key_found")
            .count();
        eprintln!("audit: {exposed} exposure findings firing, {} new findings in all", report.opened);
    }
    Ok(())
}

pub fn config(home: &Home, a: ScanConfigArgs) -> anyhow::Result<()> {
    let vault = crate::open(home)?;
    let mut s = api::scan_settings(&vault)?;
    let changed = !(a.add_folder.is_empty()
        && a.remove_folder.is_empty()
        && a.exclude.is_empty()
        && a.remove_exclude.is_empty()
        && a.verify_consent.is_empty()
        && a.no_verify_consent.is_empty()
        && a.git_history.is_none());
    s.verify.extend(a.verify_consent);
    s.verify.retain(|p| !a.no_verify_consent.contains(p));
    s.folders.extend(a.add_folder);
    for r in &a.remove_folder {
        let canonical = std::fs::canonicalize(r).unwrap_or_else(|_| r.clone());
        let before = s.folders.len();
        s.folders.retain(|f| f != r && *f != canonical);
        if s.folders.len() == before {
            anyhow::bail!("{} is not a configured folder (see `keyward scan-config`)", r.display());
        }
    }
    s.excludes.extend(a.exclude);
    for r in &a.remove_exclude {
        if !s.excludes.contains(r) {
            anyhow::bail!("{r:?} is not a configured exclude (see `keyward scan-config`)");
        }
    }
    s.excludes.retain(|e| !a.remove_exclude.contains(e));
    if let Some(g) = a.git_history {
        s.git_history = g == "on";
    }
    if changed {
        s = api::save_scan_settings(&vault, s)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("default locations (under your home folder): {}", api::DEFAULT_LOCATIONS.join(", "));
        println!(
            "folders: {}",
            if s.folders.is_empty() {
                "-".into()
            } else {
                s.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            }
        );
        println!("excludes: {}", if s.excludes.is_empty() { "-".into() } else { s.excludes.join(", ") });
        println!("git history in the scheduled scan: {}", if s.git_history { "on" } else { "off" });
        println!(
            "found keys may be checked with: {}",
            if s.verify.is_empty() { "-".into() } else { s.verify.join(", ") }
        );
    }
    Ok(())
}

pub fn exposures(home: &Home, all: bool, json: bool, key: Option<String>) -> anyhow::Result<()> {
    let vault = crate::open(home)?;
    let list = match key {
        Some(k) => api::key_consumers(&vault, &k)?,
        None => api::list_exposures(&vault, all)?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!(
            "{}",
            if all {
                "No exposures yet: run `keyward scan`."
            } else {
                "No current exposures (`--all` shows the gone ones)."
            }
        );
    } else {
        output::exposures(&list);
    }
    Ok(())
}

pub fn shadow(home: &Home, cmd: ShadowCmd) -> anyhow::Result<()> {
    let mut vault = crate::open(home)?;
    match cmd {
        ShadowCmd::List { json } => {
            let list = api::list_shadow_keys(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                output::shadow_keys(&list);
            }
        }
        ShadowCmd::Link { id, key } => {
            api::link_shadow_key(&mut vault, &id, &key)?;
            println!("Linked {id} to key {key}: its places are now that key's consumers.");
        }
        ShadowCmd::Dismiss { id } => {
            api::dismiss_shadow_key(&vault, &id)?;
            println!("Dismissed {id}.");
        }
        ShadowCmd::Verify { id } => {
            let v = crate::runtime()?.block_on(api::verify_shadow_key(&mut vault, &id, &endpoints()))?;
            println!("{} {} {}: {}", v.provider, v.redacted, v.id, v.verify_result.as_deref().unwrap_or("-"));
        }
        ShadowCmd::NotAKey { id } => {
            api::mark_not_a_key(&mut vault, &id)?;
            println!("Marked {id} not a key: later scans leave it out (`keyward shadow not-keys` lists them).");
        }
        ShadowCmd::NotKeys { json } => {
            let list = api::list_not_keys(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                output::not_keys(&list);
            }
        }
        ShadowCmd::IsAKey { id } => {
            api::unmark_not_a_key(&vault, id)?;
            println!("Took {id} off the not-a-key list: the next scan that finds it reports it.");
        }
    }
    Ok(())
}
