//! `keyward`: the core, headless and scriptable. Glue only: parse arguments, call one
//! `keyward_core::api` function, print. Exit codes: 0 ok, 1 error (one line on stderr), 2 usage.

mod output;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use keyward_core::api::{self, Home};
use keyward_core::connector::ConnectorSettings;
use keyward_core::inventory::NewKey;
use keyward_core::vault::Vault;
use keyward_core::{Error, Secret};

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Inventory, audit and rotate your API keys. Secrets never leave this machine."
)]
struct Cli {
    /// The folder holding the vault [default: the OS data dir]
    #[arg(long, global = true, env = "KEYWARD_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the vault (passphrase-protected when KEYWARD_PASSPHRASE is set, else in the OS keychain)
    Init,
    /// Manage provider connectors
    #[command(subcommand)]
    Connector(ConnectorCmd),
    /// Fetch every connector's keys into the inventory
    Sync {
        /// Only this connector
        #[arg(long)]
        connector: Option<String>,
    },
    /// The key inventory
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Run every audit rule and print the findings
    Audit {
        /// Print a JSON array of findings
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConnectorCmd {
    /// Connect a provider account
    Add(ConnectorAdd),
    /// List connectors
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ConnectorAdd {
    /// Provider id (only `aws` can be connected so far)
    provider: String,
    /// A unique name for this account
    #[arg(long)]
    name: String,
    /// AWS: the named profile to take credentials from
    #[arg(long)]
    profile: Option<String>,
    /// AWS: the region
    #[arg(long)]
    region: Option<String>,
}

#[derive(Subcommand)]
enum KeysCmd {
    /// List keys
    List {
        /// Print a JSON array (never contains a secret)
        #[arg(long)]
        json: bool,
        /// Include keys a sync no longer sees
        #[arg(long)]
        all: bool,
    },
    /// Register a key by hand; the secret is read from standard input
    Add {
        /// Provider id (aws, aws_apigateway, datadog, mongodb_atlas, fastly, newrelic, linear)
        #[arg(long)]
        provider: String,
        /// A name for the key
        #[arg(long)]
        name: String,
        /// Who owns it
        #[arg(long)]
        owner: Option<String>,
        /// Expiry date (YYYY-MM-DD or RFC 3339)
        #[arg(long, value_parser = parse_date)]
        expires: Option<chrono::DateTime<Utc>>,
    },
    /// Print a key's secret to standard output
    Reveal {
        /// Keyward's key id (see `keys list`)
        id: String,
    },
}

fn parse_date(s: &str) -> Result<chrono::DateTime<Utc>, String> {
    if let Some(t) = keyward_core::time::parse(s) {
        return Ok(t);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")))
        .map_err(|_| format!("{s:?} is not a date (use YYYY-MM-DD)"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("keyward: {line}");
            ExitCode::from(1)
        }
    }
}

fn home_of(cli_home: Option<PathBuf>) -> anyhow::Result<Home> {
    let dir = match cli_home {
        Some(d) => d,
        None => Home::default_dir().context("no OS data directory; pass --home")?,
    };
    Ok(Home::new(dir))
}

fn open(home: &Home) -> Result<Vault, Error> {
    api::open(home, api::env_passphrase().as_ref())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let home = home_of(cli.home)?;
    output::init_logging(&home);
    match cli.command {
        Command::Init => {
            let passphrase = api::env_passphrase();
            let vault = api::init(&home, passphrase.as_ref())?;
            let how = if passphrase.is_some() { "passphrase (KEYWARD_PASSPHRASE)" } else { "the OS keychain" };
            println!("Created vault {} at {}, master key protected by {how}.", vault.id(), vault.path().display());
        }
        Command::Connector(ConnectorCmd::Add(a)) => {
            let vault = open(&home)?;
            let c = api::add_connector(
                &vault,
                &a.name,
                &a.provider,
                ConnectorSettings { profile: a.profile, region: a.region },
            )?;
            println!("Added connector {} ({}). Run `keyward sync` to fetch its keys.", c.name, c.provider);
        }
        Command::Connector(ConnectorCmd::List { json }) => {
            let vault = open(&home)?;
            output::connectors(&api::list_connectors(&vault)?, json)?;
        }
        Command::Sync { connector } => {
            let mut vault = open(&home)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let bar = output::Progress::new(std::io::stderr().is_terminal());
            let outcomes = runtime.block_on(api::sync(&mut vault, connector.as_deref(), &|p| bar.update(&p)))?;
            bar.finish();
            if outcomes.is_empty() {
                bail!("no connectors to sync (add one with `keyward connector add aws --name NAME`)");
            }
            let mut failed = Vec::new();
            for (name, outcome) in &outcomes {
                match outcome {
                    Ok(r) => println!(
                        "{name}: {} keys ({} new, {} changed, {} removed) in {:.1} s",
                        r.seen,
                        r.added,
                        r.changed,
                        r.removed,
                        r.elapsed_ms as f64 / 1000.0
                    ),
                    Err(e) => failed.push(format!("{name}: {e}")),
                }
            }
            if !failed.is_empty() {
                bail!("sync failed for {}", failed.join("; "));
            }
        }
        Command::Keys(KeysCmd::List { json, all }) => {
            let vault = open(&home)?;
            output::keys(&api::list_keys(&vault, all, Utc::now())?, json)?;
        }
        Command::Keys(KeysCmd::Add { provider, name, owner, expires }) => {
            let mut vault = open(&home)?;
            let mut raw = zeroize::Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut raw).context("reading the secret from standard input")?;
            let secret = Secret::new(raw.trim_end_matches(['\r', '\n']).to_owned());
            let key = api::add_key(&mut vault, NewKey { provider, name, owner, expires_at: expires, secret })?;
            println!("{}", key.id);
        }
        Command::Keys(KeysCmd::Reveal { id }) => {
            let vault = open(&home)?;
            let secret = api::reveal_key(&vault, &id)?;
            println!("{}", secret.expose());
        }
        Command::Audit { json } => {
            let mut vault = open(&home)?;
            output::findings(&api::run_audit(&mut vault, Utc::now())?, json)?;
        }
    }
    Ok(())
}
