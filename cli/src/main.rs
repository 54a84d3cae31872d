//! `keyward`: the core, headless and scriptable. Glue only: parse arguments, call one
//! `keyward_core::api` function, print. Exit codes: 0 ok, 1 error (one line on stderr), 2 usage.

mod log;
mod output;
mod prompt;
mod recovery;
mod rotate;
mod scan;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use keyward_core::api::{self, Home};
use keyward_core::api::{ConnectorSettings, Credentials, NewKey, Vault};
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
    /// Read the vault's passphrase from this file (its first line) instead of KEYWARD_PASSPHRASE
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "passphrase_fd")]
    passphrase_file: Option<PathBuf>,
    /// Read the vault's passphrase from this open file descriptor (its first line)
    #[arg(long, global = true, value_name = "FD")]
    passphrase_fd: Option<i32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum PassphraseCmd {
    /// Set a new passphrase (the current one opens the vault, as for any command)
    Change {
        /// Read the new passphrase from this file (its first line) instead of asking twice
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
}

/// A new passphrase: from a file, or typed twice at a terminal (without echo).
fn new_passphrase(file: Option<&PathBuf>) -> anyhow::Result<Secret> {
    if let Some(p) = passphrase_from(file, None)? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("give the new passphrase with --new-passphrase-file, or run this at a terminal to type it");
    }
    let first = prompt::secret("New passphrase", prompt::Input::FirstLine)?;
    let again = prompt::secret("The new passphrase again", prompt::Input::FirstLine)?;
    if first.is_empty() || *first != *again {
        bail!("the two passphrases differ (or are empty); nothing was changed");
    }
    Ok(Secret::new(first.to_string()))
}

/// The passphrase given without a prompt: `KEYWARD_PASSPHRASE` (already taken out of the
/// environment), `--passphrase-file` or `--passphrase-fd`; read once.
static GIVEN_PASSPHRASE: std::sync::OnceLock<Option<Secret>> = std::sync::OnceLock::new();

/// Reads the passphrase `--passphrase-file` or `--passphrase-fd` names (its first line).
fn passphrase_from(file: Option<&PathBuf>, fd: Option<i32>) -> anyhow::Result<Option<Secret>> {
    use std::os::fd::FromRawFd as _;
    let mut raw = zeroize::Zeroizing::new(String::new());
    match (file, fd) {
        (Some(path), _) => {
            let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
            f.read_to_string(&mut raw).with_context(|| format!("reading {}", path.display()))?;
        }
        (None, Some(fd)) if fd > 2 => {
            // SAFETY: the caller handed this descriptor to us to read the passphrase from; it is
            // owned (and closed) here and used nowhere else.
            let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
            f.read_to_string(&mut raw).with_context(|| format!("reading the passphrase from descriptor {fd}"))?;
        }
        (None, Some(fd)) => bail!("--passphrase-fd {fd}: standard input, output and error cannot carry the passphrase"),
        (None, None) => return Ok(None),
    }
    let first = raw.lines().next().unwrap_or("");
    if first.is_empty() {
        bail!("the passphrase given is empty");
    }
    Ok(Some(Secret::new(first.to_owned())))
}

/// The passphrase given without a prompt, if any.
fn given_passphrase() -> Option<Secret> {
    GIVEN_PASSPHRASE.get().cloned().flatten().or_else(api::env_passphrase)
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
    /// Run every audit rule under the policy in force and print the firing findings
    Audit {
        /// Print a JSON array of the firing findings
        #[arg(long)]
        json: bool,
        /// Also send what is new to the webhooks, as the scheduled audit does
        #[arg(long)]
        notify: bool,
        /// Only findings of rules serving these practices (comma-separated): authentication,
        /// authorization, access-control, encryption, gateway, central-oauth, monitoring,
        /// input-validation, rate-limiting, ddos-protection, regular-audits, zero-trust
        #[arg(long, value_delimiter = ',')]
        practice: Vec<String>,
        /// Only findings breaking these benchmark controls (comma-separated), e.g. cis-aws-1.14,
        /// fsbp-apigateway.4
        #[arg(long, value_delimiter = ',')]
        control: Vec<String>,
        /// Print, per practice, how many keys, resources and accounts pass and fail
        #[arg(long)]
        practices: bool,
    },
    /// Write the findings as a report: json, csv, sarif (code scanning), ocsf (SIEM) or html
    Report {
        /// json, csv, sarif, ocsf or html
        #[arg(long, value_parser = ["json", "csv", "sarif", "ocsf", "html"])]
        format: String,
        /// Write to this file instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
        /// States to include, comma-separated: open, acknowledged, snoozed, resolved, all
        #[arg(long, value_delimiter = ',', default_value = "open,acknowledged,snoozed")]
        state: Vec<String>,
        /// Only findings of rules serving these practices (comma-separated)
        #[arg(long, value_delimiter = ',')]
        practice: Vec<String>,
        /// Only findings breaking these benchmark controls (comma-separated)
        #[arg(long, value_delimiter = ',')]
        control: Vec<String>,
    },
    /// Run the scheduled jobs (syncs, audit, notifications) until interrupted
    Daemon {
        /// Delay each scheduled run by up to this many seconds (spreads load on providers)
        #[arg(long, default_value_t = 120)]
        max_jitter: u64,
    },
    /// Scheduled jobs: list, or change a job's cron expression
    #[command(subcommand)]
    Schedule(ScheduleCmd),
    /// Notifications: preferences, webhooks, delivery log
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// Findings across audits: list, history, acknowledge, snooze, reopen
    #[command(subcommand)]
    Findings(FindingsCmd),
    /// Rotate a key at its provider: the plan first, then each step (IAM, API Gateway, Datadog
    /// API, New Relic and Atlas service-account keys); the steps by hand for keys no API makes
    Rotate(rotate::RotateArgs),
    /// Rotations: list, show with the journal, resume, abort
    #[command(subcommand)]
    Rotations(rotate::RotationsCmd),
    /// The audit policy (policy.toml in the home): thresholds, rules on/off, severities
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Posture resources (API Gateway APIs, routes, stages) the syncs saw
    Resources {
        /// Print a JSON array
        #[arg(long)]
        json: bool,
    },
    /// Look for keys in files: inventoried ones (by a keyed hash of the secrets Keyward holds)
    /// and unknown ones (by provider format); hits are recorded as exposures
    Scan(scan::ScanArgs),
    /// The scan's project folders, excludes and git-history switch
    ScanConfig(scan::ScanConfigArgs),
    /// Where keys were found (current ones unless --all)
    Exposures {
        /// Include exposures a later scan no longer found
        #[arg(long)]
        all: bool,
        /// Only this key's consumer locations (Keyward's key id)
        #[arg(long)]
        key: Option<String>,
        /// Print a JSON array
        #[arg(long)]
        json: bool,
    },
    /// The activity log: syncs, audits, scans, checks of found keys, reveals, exports, settings
    /// changes; `keyward log verify` proves nobody edited it
    #[command(alias = "activity")]
    Log(log::LogArgs),
    /// Keys found in files that Keyward does not manage: list, link, dismiss, verify
    #[command(subcommand)]
    Shadow(scan::ShadowCmd),
    /// Change the vault's passphrase (the master key is re-wrapped; nothing is re-encrypted)
    #[command(subcommand)]
    Passphrase(PassphraseCmd),
    /// Move the master key to the OS keychain or to a passphrase
    Protect {
        /// keychain or passphrase
        #[arg(value_parser = ["keychain", "passphrase"])]
        how: String,
        /// Read the new passphrase from this file (its first line) instead of asking twice
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// The recovery kit: a printed recovery key that opens the vault when its keychain entry or
    /// passphrase is lost (kit, status, remove)
    #[command(subcommand)]
    Recovery(recovery::RecoveryCmd),
    /// Open the vault with its recovery key and protect it anew (this machine's keychain, or a
    /// new passphrase)
    Recover {
        /// Read the recovery key from this file (its first line) instead of typing it
        #[arg(long, value_name = "FILE")]
        recovery_key_file: Option<PathBuf>,
        /// Where the master key goes afterwards
        #[arg(long, value_parser = ["keychain", "passphrase"], default_value = "keychain")]
        to: String,
        /// With --to passphrase: read the new passphrase from this file instead of asking twice
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Build a demo workspace in this home: built-in stand-ins for AWS, Datadog, MongoDB Atlas,
    /// Fastly, New Relic and Linear, connected, synced and audited
    Demo,
}

#[derive(Subcommand)]
enum ConnectorCmd {
    /// Connect a provider account
    Add(Box<ConnectorAdd>),
    /// List connectors
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Check a connector's credentials and the permissions it needs, without syncing
    Test {
        /// The connector's name
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a connector: its keys become removed and their findings resolve (key_deleted);
    /// their history stays. Asks first on a terminal
    Remove {
        /// The connector's name
        name: String,
        /// Remove without asking (for scripts; required when not on a terminal)
        #[arg(long)]
        yes: bool,
    },
}

/// Credentials are never taken from arguments (they would land in shell history and `ps`): each
/// provider reads its vendor's usual environment variables, or `field=value` lines on standard
/// input with `--credentials-stdin`.
#[derive(Args)]
#[command(after_help = "Credentials (environment, or field=value lines on stdin with --credentials-stdin):
  datadog        api_key (DD_API_KEY), app_key (DD_APP_KEY)
  mongodb_atlas  public_key (MONGODB_ATLAS_PUBLIC_API_KEY), private_key (MONGODB_ATLAS_PRIVATE_API_KEY),
                 or client_id (MONGODB_ATLAS_CLIENT_ID), client_secret (MONGODB_ATLAS_CLIENT_SECRET)
  fastly         token (FASTLY_API_TOKEN)
  newrelic       api_key (NEW_RELIC_API_KEY), a USER key
  aws, aws_apigateway use the AWS credential chain (--profile)
  linear         cannot be connected: Linear's API cannot list keys; register them with `keys add`")]
struct ConnectorAdd {
    /// Provider id: aws, aws_apigateway, datadog, mongodb_atlas, fastly, newrelic
    provider: String,
    /// A unique name for this account
    #[arg(long)]
    name: String,
    /// AWS: the named profile to take credentials from
    #[arg(long)]
    profile: Option<String>,
    /// AWS: the region; New Relic: us, eu or jp
    #[arg(long)]
    region: Option<String>,
    /// API Gateway: regions to inventory, comma-separated [default: every commercial region]
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// Datadog: the site (datadoghq.com, datadoghq.eu, us3.datadoghq.com...)
    #[arg(long)]
    site: Option<String>,
    /// MongoDB Atlas: the organization id
    #[arg(long)]
    org_id: Option<String>,
    /// New Relic: account ids to list, comma-separated [default: every account the key sees]
    #[arg(long, value_delimiter = ',')]
    account_id: Vec<i64>,
    /// The provider's URL instead of the public one (Atlas for Government, a proxy, an emulator)
    #[arg(long)]
    endpoint: Option<String>,
    /// AWS: every account of the Organization these credentials manage, through a role in each
    #[arg(long)]
    organization: bool,
    /// AWS with --organization: the role to assume in member accounts [default: OrganizationAccountAccessRole]
    #[arg(long)]
    role_name: Option<String>,
    /// AWS with --organization: the external id the role's trust policy requires
    #[arg(long)]
    external_id: Option<String>,
    /// AWS with --organization: only these account ids, comma-separated
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
    /// AWS with --organization: not these account ids, comma-separated
    #[arg(long, value_delimiter = ',')]
    exclude_accounts: Vec<String>,
    /// Read credentials as field=value lines from standard input instead of the environment
    #[arg(long)]
    credentials_stdin: bool,
}

fn read_credentials(provider: &str, from_stdin: bool) -> anyhow::Result<Credentials> {
    // Each credential field and the environment variable it is read from, as the provider's
    // registry entry declares them.
    let fields: Vec<(&str, &str)> = api::credential_fields(provider).into_iter().map(|c| (c.field, c.env)).collect();
    let mut credentials = Credentials::default();
    if from_stdin {
        let mut raw = zeroize::Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut raw).context("reading credentials from standard input")?;
        for (n, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let Some((field, value)) = line.split_once('=') else {
                bail!("standard input line {}: expected field=value", n + 1);
            };
            let field = field.trim();
            if !fields.iter().any(|(f, _)| *f == field) {
                let known: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                bail!(
                    "standard input line {}: {provider} has no credential field {field:?} (fields: {})",
                    n + 1,
                    known.join(", ")
                );
            }
            credentials.insert(field, Secret::new(value.trim().to_owned()));
        }
    } else {
        for (field, env) in fields {
            if let Ok(value) = std::env::var(env) {
                credentials.insert(field, Secret::new(value));
            }
        }
    }
    Ok(credentials)
}

#[derive(Subcommand)]
enum FindingsCmd {
    /// List findings (firing ones unless --state says otherwise), most severe first
    List {
        /// States to show, comma-separated: open, acknowledged, snoozed, resolved, all
        #[arg(long, value_delimiter = ',', default_value = "open,acknowledged,snoozed")]
        state: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// One finding with its history
    Show {
        /// The finding's id
        id: i64,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Accept a firing finding for now (it reopens if it escalates)
    Ack {
        /// The finding's id
        id: i64,
        /// Why
        #[arg(long)]
        note: Option<String>,
    },
    /// Hide a firing finding until a date (YYYY-MM-DD, UTC midnight)
    Snooze {
        /// The finding's id
        id: i64,
        /// Until when
        #[arg(long, value_parser = parse_date)]
        until: chrono::DateTime<Utc>,
        /// Why
        #[arg(long)]
        note: Option<String>,
    },
    /// Put an acknowledged or snoozed finding back to open
    Reopen {
        /// The finding's id
        id: i64,
    },
}

#[derive(Subcommand)]
enum ScheduleCmd {
    /// Every job with its cron expression, last run and next fire time
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Change a job (`audit`, `scan` or `sync:CONNECTOR`)
    Set {
        /// The job's id
        job: String,
        /// A cron expression: five fields, or six/seven with seconds first ("0 */6 * * *")
        #[arg(long)]
        cron: Option<String>,
        /// Switch it on
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Switch it off
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Subcommand)]
enum NotifyCmd {
    /// Show or change notification preferences
    Prefs {
        /// Lowest severity notified: low, medium, high, critical (expiry reminders always are)
        #[arg(long)]
        min_severity: Option<String>,
        /// Local hours with no notifications, START-END (e.g. 22-7), or "off"
        #[arg(long)]
        quiet_hours: Option<String>,
        /// Send one digest a day at this local hour (0-23) instead of as findings appear, or "off"
        #[arg(long)]
        digest: Option<String>,
        /// Desktop notifications: on or off
        #[arg(long)]
        desktop: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Manage webhooks
    #[command(subcommand)]
    Webhook(WebhookCmd),
    /// The latest deliveries
    Log {
        /// How many
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum WebhookCmd {
    /// Add a webhook; its URL is read from KEYWARD_WEBHOOK_URL or the first line of standard
    /// input (a Slack URL is a credential: never an argument). json webhooks are signed with
    /// KEYWARD_WEBHOOK_SECRET, or a key Keyward generates and prints once.
    Add {
        /// A name for it
        name: String,
        /// slack (Slack-compatible text) or json (generic payload, HMAC-SHA256 signed)
        #[arg(long, value_parser = ["slack", "json"])]
        kind: String,
    },
    /// List webhooks
    List,
    /// Remove a webhook
    Remove {
        /// Its name
        name: String,
    },
    /// Send a test notification to one webhook
    Test {
        /// Its name
        name: String,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Print the policy in force (and the file's error, if the file is broken)
    Show,
    /// Check a policy file without using it; exit 1 naming the line of the first error
    Check {
        /// The file [default: the home's policy.toml]
        file: Option<PathBuf>,
    },
    /// Replace the home's policy with FILE, if it is valid
    Set {
        /// The new policy
        file: PathBuf,
    },
    /// Write the default policy (every default spelled out) to the home's policy.toml, if absent
    Init,
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
        /// Riskiest first
        #[arg(long)]
        by_risk: bool,
    },
    /// Tag a key (policies set thresholds per tag)
    Tag {
        /// The key's id
        id: String,
        /// Tags to add
        tags: Vec<String>,
        /// Tags to remove
        #[arg(long)]
        remove: Vec<String>,
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
    /// Ask the provider whether a key registered by hand still works (Linear)
    Check {
        /// Keyward's key id (see `keys list`)
        id: String,
    },
}

fn parse_date(s: &str) -> Result<chrono::DateTime<Utc>, String> {
    if let Some(t) = api::parse_time(s) {
        return Ok(t);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")))
        .map_err(|_| format!("{s:?} is not a date (use YYYY-MM-DD)"))
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader goes away (`keyward keys list | head`)
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // SAFETY: first thing in main; no other thread exists yet.
    unsafe { api::harden_process() };
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
            // An error can quote a provider's answer: shown, never obeyed by the terminal.
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("keyward: {}", output::terminal_safe(&line));
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

/// The async runtime for the commands that talk to providers.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

/// Opens the vault with the passphrase given, or — on a terminal, for a passphrase-protected
/// vault given none — the one typed at a prompt (without echo).
fn open(home: &Home) -> Result<Vault, Error> {
    let given = given_passphrase();
    let vault = match api::open(home, given.as_ref()) {
        Err(Error::Vault(api::VaultError::Locked)) if given.is_none() && std::io::stdin().is_terminal() => {
            let typed = prompt::secret("Passphrase of the vault", prompt::Input::FirstLine)
                .map_err(|e| Error::Invalid { field: "passphrase", reason: e.to_string() })?;
            api::open(home, Some(&Secret::new(typed.to_string())))?
        }
        other => other?,
    };
    for fixed in vault.tightened() {
        eprintln!("keyward: warning: {fixed}");
    }
    Ok(vault)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let home = home_of(cli.home)?;
    let creating = matches!(cli.command, Command::Init | Command::Demo);
    if creating {
        api::files::create_dir(home.dir()).with_context(|| format!("creating {}", home.dir().display()))?;
    }
    output::init_logging(&home, creating);
    let given = passphrase_from(cli.passphrase_file.as_ref(), cli.passphrase_fd)?;
    let _ = GIVEN_PASSPHRASE.set(given);
    match cli.command {
        Command::Init => {
            let passphrase = given_passphrase();
            let vault = api::init(&home, passphrase.as_ref())?;
            let how = if passphrase.is_some() { "passphrase" } else { "the OS keychain" };
            println!("Created vault {} at {}, master key protected by {how}.", vault.id(), vault.path().display());
        }
        Command::Connector(ConnectorCmd::Add(a)) => {
            let mut vault = open(&home)?;
            let credentials = read_credentials(&a.provider, a.credentials_stdin)?;
            let mut settings = ConnectorSettings::default();
            settings.set("profile", a.profile);
            settings.set("region", a.region);
            settings.set("regions", a.regions);
            settings.set("site", a.site);
            settings.set("org_id", a.org_id);
            settings.set("account_ids", a.account_id);
            settings.set("endpoint", a.endpoint);
            settings.set("organization", a.organization);
            settings.set("role_name", a.role_name);
            settings.set("external_id", a.external_id);
            settings.set("accounts", a.accounts);
            settings.set("exclude_accounts", a.exclude_accounts);
            let c = api::add_connector(&mut vault, &a.name, &a.provider, settings, &credentials)?;
            println!(
                "Added connector {} ({}). Check it with `keyward connector test {}`, then run `keyward sync`.",
                c.name, c.provider, c.name
            );
        }
        Command::Connector(ConnectorCmd::Test { name, json }) => {
            let mut vault = open(&home)?;
            let runtime = runtime()?;
            let checks = runtime
                .block_on(api::test_connector(&mut vault, &name))
                .with_context(|| format!("connector {name}"))?;
            output::checks(&checks, json)?;
            if let Some(bad) = checks.iter().find(|c| !c.ok) {
                bail!("{name}: {} missing: {}", bad.what, bad.detail);
            }
        }
        Command::Connector(ConnectorCmd::Remove { name, yes }) => {
            let mut vault = open(&home)?;
            let what = api::connector_removal(&vault, &name)?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!(
                        "removing {name} would remove {} keys and resolve {} findings; pass --yes to confirm",
                        what.keys,
                        what.findings
                    );
                }
                eprint!(
                    "Remove connector {name}? Its {} keys become removed and {} firing findings resolve as key_deleted (history is kept). [y/N] ",
                    what.keys, what.findings
                );
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    bail!("not removed");
                }
            }
            let done = api::remove_connector(&mut vault, &name)?;
            println!(
                "Removed connector {name}: {} keys marked removed, {} findings resolved (key_deleted); their history is kept.",
                done.keys, done.findings
            );
        }
        Command::Resources { json } => {
            let vault = open(&home)?;
            output::resources(&api::list_resources(&vault)?, json)?;
        }
        Command::Passphrase(PassphraseCmd::Change { new_passphrase_file }) => {
            let mut vault = open(&home)?;
            if vault.protection()? != "passphrase" {
                bail!("this vault's master key is in the OS keychain; `keyward protect passphrase` moves it to one");
            }
            let new = new_passphrase(new_passphrase_file.as_ref())?;
            api::change_protection(&mut vault, Some(&new))?;
            println!("Passphrase changed: the old one no longer opens {}.", vault.path().display());
        }
        Command::Protect { how, new_passphrase_file } => {
            let mut vault = open(&home)?;
            let new = match how.as_str() {
                "passphrase" => Some(new_passphrase(new_passphrase_file.as_ref())?),
                _ => None,
            };
            api::change_protection(&mut vault, new.as_ref())?;
            println!(
                "The master key of {} is now protected by {}.",
                vault.path().display(),
                if new.is_some() { "a passphrase" } else { "the OS keychain" }
            );
        }
        Command::Recovery(cmd) => recovery::run(&home, cmd)?,
        Command::Recover { recovery_key_file, to, new_passphrase_file } => {
            recovery::recover(&home, recovery_key_file.as_ref(), &to, new_passphrase_file.as_ref())?
        }
        Command::Demo => {
            let mut vault = if home.is_initialized() {
                open(&home)?
            } else {
                let passphrase = given_passphrase();
                api::init(&home, passphrase.as_ref())?
            };
            let runtime = runtime()?;
            let bar = output::Progress::new(std::io::stderr().is_terminal());
            let report = runtime.block_on(api::demo(&home, &mut vault, &|p| bar.update(&p), std::future::pending()))?;
            bar.finish();
            for r in &report.syncs {
                println!("{}: {} keys", r.connector, r.seen);
            }
            for (name, result) in &report.checked {
                println!("{name} (Linear, registered by hand): {result}");
            }
            println!(
                "Demo workspace ready in {}: {} keys, {} findings. Try `keyward --home {} keys list`.",
                home.dir().display(),
                report.keys,
                report.findings,
                home.dir().display()
            );
        }
        Command::Connector(ConnectorCmd::List { json }) => {
            let vault = open(&home)?;
            output::connectors(&api::list_connectors(&vault)?, json)?;
        }
        Command::Sync { connector } => {
            let mut vault = open(&home)?;
            let runtime = runtime()?;
            let bar = output::Progress::new(std::io::stderr().is_terminal());
            let outcomes = runtime.block_on(api::sync(&mut vault, connector.as_deref(), &|p| bar.update(&p)))?;
            bar.finish();
            if outcomes.is_empty() {
                bail!(
                    "no connectors to sync (add one with `keyward connector add PROVIDER --name NAME`, or try `keyward demo`)"
                );
            }
            let mut failed = Vec::new();
            for (name, outcome) in &outcomes {
                if let Ok(r) = outcome {
                    for warning in &r.warnings {
                        eprintln!("keyward: warning: {name}: {warning}");
                    }
                }
                match outcome {
                    Ok(r) => println!(
                        "{name}: {} keys ({} new, {} changed, {} removed) in {:.1} s{}",
                        r.seen,
                        r.added,
                        r.changed,
                        r.removed,
                        r.elapsed_ms as f64 / 1000.0,
                        r.api_calls.map(|n| format!(", {n} API calls")).unwrap_or_default()
                    ),
                    Err(e) => failed.push(format!("{name}: {e}")),
                }
            }
            if !failed.is_empty() {
                bail!("sync failed for {}", failed.join("; "));
            }
        }
        Command::Keys(KeysCmd::List { json, all, by_risk }) => {
            let vault = open(&home)?;
            let mut keys = api::list_keys(&vault, all, Utc::now())?;
            if by_risk {
                keys.sort_by_key(|k| std::cmp::Reverse(k.risk));
            }
            output::keys(&keys, json)?;
        }
        Command::Keys(KeysCmd::Tag { id, tags, remove }) => {
            let vault = open(&home)?;
            let key = api::tag_key(&vault, &id, &tags, &remove)?;
            println!("{}: {}", key.name, if key.tags.is_empty() { "no tags".into() } else { key.tags.join(", ") });
        }
        Command::Keys(KeysCmd::Add { provider, name, owner, expires }) => {
            let mut vault = open(&home)?;
            let raw = prompt::secret(&format!("Secret of {provider} key {name:?}"), prompt::Input::All)?;
            let secret = Secret::new(raw.to_string());
            let key = api::add_key(&mut vault, NewKey { provider, name, owner, expires_at: expires, secret })?;
            println!("{}", key.id);
        }
        Command::Keys(KeysCmd::Check { id }) => {
            let mut vault = open(&home)?;
            let runtime = runtime()?;
            let key = runtime.block_on(api::check_key(&mut vault, &id))?;
            let result = key.check_result.unwrap_or_default();
            println!("{}: {result}", key.name);
            if !result.starts_with("live") {
                bail!("{} is not live", key.name);
            }
        }
        Command::Keys(KeysCmd::Reveal { id }) => {
            let vault = open(&home)?;
            let secret = api::reveal_key(&vault, &id)?;
            println!("{}", secret.expose());
        }
        Command::Audit { json, notify, practice, control, practices } => {
            let filter = api::practice_filter(&practice, &control)?;
            let mut vault = open(&home)?;
            if notify {
                let summary = runtime()?.block_on(api::audit_and_notify(
                    &home,
                    &mut vault,
                    Utc::now(),
                    None,
                    Default::default(),
                ))?;
                if json {
                    let firing = api::list_findings(&vault, api::FindingState::FIRING)?;
                    output::findings(&firing.into_iter().filter(|f| filter.keeps(f)).collect::<Vec<_>>(), true)?;
                } else {
                    println!("{summary}");
                }
                return Ok(());
            }
            let report = api::run_audit(&home, &mut vault, Utc::now())?;
            if let Some(problem) = &report.policy_problem {
                eprintln!("warning: {problem}; the previous policy stays in force");
            }
            if practices {
                output::practices(&api::practices(&vault)?, json)?;
                return Ok(());
            }
            let shown: Vec<_> = report.findings.into_iter().filter(|f| filter.keeps(f)).collect();
            output::findings(&shown, json)?;
            if !json {
                println!(
                    "{} new, {} escalated, {} resolved since the last audit.",
                    report.opened, report.escalated, report.resolved
                );
            }
        }
        Command::Findings(cmd) => findings(&home, cmd)?,
        Command::Rotate(args) => rotate::rotate(&home, args)?,
        Command::Rotations(cmd) => rotate::rotations(&home, cmd)?,
        Command::Scan(args) => scan::scan(&home, args)?,
        Command::ScanConfig(args) => scan::config(&home, args)?,
        Command::Exposures { all, key, json } => scan::exposures(&home, all, json, key)?,
        Command::Shadow(cmd) => scan::shadow(&home, cmd)?,
        Command::Log(args) => log::run(&home, args)?,
        Command::Daemon { max_jitter } => daemon(&home, max_jitter)?,
        Command::Schedule(cmd) => schedule_cmd(&home, cmd)?,
        Command::Notify(cmd) => notify_cmd(&home, cmd)?,
        Command::Report { format, out, state, practice, control } => {
            let filter = api::practice_filter(&practice, &control)?;
            let vault = open(&home)?;
            let format = api::ReportFormat::parse(&format).expect("clap checked the format");
            let text = api::report(&vault, format, &states(&state)?, &filter)?;
            match out {
                None => print!("{text}"),
                Some(path) => {
                    let tmp = path.with_extension("keyward-tmp");
                    std::fs::write(&tmp, &text)
                        .and_then(|()| std::fs::rename(&tmp, &path))
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("Wrote {}", path.display());
                }
            }
        }
        Command::Policy(cmd) => policy(&home, cmd)?,
    }
    Ok(())
}

/// Finding states named on the command line; `all` (or nothing) means every state.
fn states(names: &[String]) -> anyhow::Result<Vec<api::FindingState>> {
    use api::FindingState as S;
    let mut states = Vec::new();
    for name in names {
        states.push(match name.as_str() {
            "all" => return Ok(Vec::new()),
            "open" => S::Open,
            "acknowledged" => S::Acknowledged,
            "snoozed" => S::Snoozed,
            "resolved" => S::Resolved,
            other => bail!("unknown state {other:?} (open, acknowledged, snoozed, resolved, all)"),
        });
    }
    Ok(states)
}

fn findings(home: &Home, cmd: FindingsCmd) -> anyhow::Result<()> {
    match cmd {
        FindingsCmd::List { state, json } => {
            let vault = open(home)?;
            output::findings(&api::list_findings(&vault, &states(&state)?)?, json)?;
        }
        FindingsCmd::Show { id, json } => {
            let vault = open(home)?;
            let finding = api::finding(&vault, id)?;
            let history = api::finding_history(&vault, id)?;
            output::finding(&finding, &history, json)?;
        }
        FindingsCmd::Ack { id, note } => {
            let mut vault = open(home)?;
            let f = api::acknowledge_finding(&mut vault, id, note.as_deref())?;
            println!(
                "Acknowledged finding {id} ({} on {}).",
                f.rule_id,
                f.external_id.as_deref().unwrap_or(&f.account)
            );
        }
        FindingsCmd::Snooze { id, until, note } => {
            let mut vault = open(home)?;
            let f = api::snooze_finding(&mut vault, id, until, note.as_deref())?;
            println!("Snoozed finding {id} ({}) until {}.", f.rule_id, until.format("%Y-%m-%d"));
        }
        FindingsCmd::Reopen { id } => {
            let mut vault = open(home)?;
            api::reopen_finding(&mut vault, id)?;
            println!("Reopened finding {id}.");
        }
    }
    Ok(())
}

fn policy(home: &Home, cmd: PolicyCmd) -> anyhow::Result<()> {
    let path = api::policy_path(home);
    match cmd {
        PolicyCmd::Show => {
            let vault = open(home)?;
            let p = api::policy(home, &vault)?;
            print!("{}", p.text);
            if std::path::Path::new(&p.path).exists() {
                eprintln!("# in force since {} ({})", p.adopted_at.as_deref().unwrap_or("-"), p.path);
            } else {
                eprintln!(
                    "# the built-in defaults, in force since {}: {} does not exist (`keyward policy init` writes it)",
                    p.adopted_at.as_deref().unwrap_or("-"),
                    p.path
                );
            }
            if let Some(problem) = p.problem {
                bail!("{problem}; the policy above stays in force");
            }
        }
        PolicyCmd::Check { file } => {
            let file = file.unwrap_or(path);
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            api::check_policy(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("{}: valid", file.display());
        }
        PolicyCmd::Set { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let vault = open(home)?;
            let p = api::save_policy(home, &vault, &text)?;
            println!("Policy saved to {}; the next audit uses it.", p.path);
        }
        PolicyCmd::Init => {
            let path = api::init_policy(home).map_err(|e| match e {
                Error::Invalid { reason, .. } => anyhow::anyhow!(reason),
                e => e.into(),
            })?;
            println!("Wrote the default policy to {}.", path.display());
        }
    }
    Ok(())
}

fn daemon(home: &Home, max_jitter: u64) -> anyhow::Result<()> {
    use keyward_core::api::jobs::{self as schedule, Event, RunStatus};
    use std::sync::Arc;
    let vault = open(home)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let session = Arc::new(api::Session::with_vault(vault));
        let host = Arc::new(schedule::VaultHost::new(home.clone(), session.clone(), "keyward daemon"));
        let (cancel, cancelled) = tokio::sync::watch::channel(false);
        let stamp = || Utc::now().format("%Y-%m-%d %H:%M:%S");
        let on_event = Arc::new(move |e: Event| match e {
            Event::Started { job, fire_at, catch_up } => println!(
                "{} started {}{}",
                stamp(),
                job.id(),
                if catch_up {
                    format!(" (catching up the run due {})", fire_at.format("%Y-%m-%d %H:%M:%S"))
                } else {
                    format!(" (due {})", fire_at.format("%Y-%m-%d %H:%M:%S"))
                }
            ),
            Event::Elsewhere { job, holder } => {
                println!(
                    "{} {} is running in {}; left to it",
                    stamp(),
                    job.id(),
                    output::terminal_safe(&holder).replace(['\n', '\r', '\t'], " ")
                )
            }
            Event::Finished { job, status } => match status {
                RunStatus::Ok(m) => println!("{} finished {}: {m}", stamp(), job.id()),
                RunStatus::Failed(m) => println!("{} failed {}: {m}", stamp(), job.id()),
                RunStatus::Cancelled => println!("{} cancelled {}", stamp(), job.id()),
            },
        });
        {
            let jobs = session.with(|v| schedule::list_jobs(v)).await?;
            println!("Keyward daemon: {} jobs; stop with Ctrl-C.", jobs.len());
            for j in jobs.iter().filter(|j| j.enabled) {
                println!("  {:<24} {:<18} next {}", j.id, j.cron, j.next_fire_at.as_deref().unwrap_or("-"));
            }
        }
        let opts = schedule::Options { max_jitter: std::time::Duration::from_secs(max_jitter), ..Default::default() };
        let scheduler = tokio::spawn(schedule::run(host, Arc::new(schedule::SystemClock), opts, cancelled, on_event));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        println!("{} stopping: waiting for running jobs…", stamp());
        let _ = cancel.send(true);
        scheduler.await??;
        println!("{} stopped", stamp());
        anyhow::Ok(())
    })
}

fn schedule_cmd(home: &Home, cmd: ScheduleCmd) -> anyhow::Result<()> {
    use keyward_core::api::jobs as schedule;
    let vault = open(home)?;
    match cmd {
        ScheduleCmd::List { json } => {
            let jobs = schedule::list_jobs(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                output::jobs(&jobs);
            }
        }
        ScheduleCmd::Set { job, cron, enable, disable } => {
            let enabled = if enable {
                Some(true)
            } else if disable {
                Some(false)
            } else {
                None
            };
            schedule::set_job(&vault, &job, cron.as_deref(), enabled).map_err(|e| match e {
                Error::Invalid { field: "job", reason } => anyhow::anyhow!(reason),
                e => e.into(),
            })?;
            println!("Updated {job}.");
        }
    }
    Ok(())
}

fn notify_cmd(home: &Home, cmd: NotifyCmd) -> anyhow::Result<()> {
    match cmd {
        NotifyCmd::Prefs { min_severity, quiet_hours, digest, desktop, json } => {
            let vault = open(home)?;
            let changes = api::PreferenceChanges { min_severity, quiet_hours, digest, desktop };
            let p = api::change_notification_preferences(&vault, &changes)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                println!("lowest severity notified: {} (expiry reminders always)", p.min_severity);
                println!(
                    "quiet hours: {}",
                    p.quiet_hours.map_or("off".into(), |(a, b)| format!("{a:02}:00 to {b:02}:00, local time"))
                );
                println!(
                    "daily digest: {}",
                    p.digest_hour.map_or("off".into(), |h| format!("at {h:02}:00, local time"))
                );
                println!("desktop notifications: {}", if p.desktop { "on" } else { "off" });
            }
        }
        NotifyCmd::Webhook(WebhookCmd::Add { name, kind }) => {
            let vault = open(home)?;
            let url = match std::env::var("KEYWARD_WEBHOOK_URL") {
                Ok(u) => u,
                Err(_) => {
                    prompt::secret(&format!("URL of webhook {name:?}"), prompt::Input::FirstLine)?.trim().to_owned()
                }
            };
            let key = std::env::var("KEYWARD_WEBHOOK_SECRET").ok().map(Secret::new);
            let added = api::add_webhook(&vault, &name, &kind, &Secret::new(url), key)?;
            let view = added.view;
            println!("Added webhook {} ({}, {}).", view.name, view.kind, view.url);
            if let Some(k) = &added.generated_key {
                println!("Signing key (shown once; the receiver verifies X-Keyward-Signature with it): {}", k.expose());
            }
        }
        NotifyCmd::Webhook(WebhookCmd::List) => {
            let vault = open(home)?;
            let hooks = api::list_webhooks(&vault)?;
            if hooks.is_empty() {
                println!("No webhooks: `keyward notify webhook add NAME --kind slack|json` adds one.");
            }
            for w in hooks {
                println!("{:<16} {:<6} {} {}", w.name, w.kind, w.url, if w.enabled { "" } else { "(disabled)" });
            }
        }
        NotifyCmd::Webhook(WebhookCmd::Remove { name }) => {
            let vault = open(home)?;
            api::remove_webhook(&vault, &name)?;
            println!("Removed webhook {name}.");
        }
        NotifyCmd::Webhook(WebhookCmd::Test { name }) => {
            let vault = open(home)?;
            let d = runtime()?.block_on(api::test_webhook(&vault, &name))?;
            let d = &d;
            if d.status != "delivered" {
                bail!(
                    "{name}: not delivered after {} attempts: {}",
                    d.attempts,
                    d.error.as_deref().unwrap_or("unknown error")
                );
            }
            println!("{name}: delivered ({} attempts).", d.attempts);
        }
        NotifyCmd::Log { limit, json } => {
            let vault = open(home)?;
            let log = api::deliveries(&vault, limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&log)?);
            } else if log.is_empty() {
                println!("Nothing delivered yet.");
            } else {
                for d in log {
                    println!(
                        "{}  {:<18} {:<18} {:<10} {} attempt(s) {}",
                        d.at,
                        d.channel,
                        d.event,
                        d.status,
                        d.attempts,
                        d.error.unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}
