//! `keyward log`: the activity log, and the check that nobody edited it.

use clap::{Args, Subcommand};
use keyward_core::api::{self, Home};

use crate::output::terminal_safe;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogArgs {
    #[command(subcommand)]
    cmd: Option<LogCmd>,
    /// Only entries of this action (`verify`, `sync`, `key.reveal`, `settings.scan`…)
    #[arg(long)]
    action: Option<String>,
    /// Print a JSON array
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum LogCmd {
    /// Check that no entry was edited, inserted or deleted (exit 1 and the first bad entry if so)
    Verify {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, args: LogArgs) -> anyhow::Result<()> {
    let vault = crate::open(home)?;
    if let Some(LogCmd::Verify { json }) = args.cmd {
        let check = api::verify_activity(&vault)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&check)?);
        } else if check.intact {
            println!(
                "The activity log is intact: {} entries, each chained to the one before{}.",
                check.entries,
                match check.head.as_str() {
                    "missing" => "; no head beside the vault, so entries cut from its end could not be told",
                    _ => ", up to the newest entry recorded beside the vault",
                }
            );
        }
        if !check.intact {
            anyhow::bail!(
                "the activity log was tampered with: {}",
                check.problem.as_deref().unwrap_or("its chain is broken")
            );
        }
        return Ok(());
    }
    let list = api::activity(&vault, args.action.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if list.is_empty() {
        println!("No activity yet.");
    }
    for a in &list {
        println!(
            "{:>5}  {}  {}  {}  {}  {}{}",
            a.id,
            terminal_safe(&a.at),
            terminal_safe(&a.action),
            terminal_safe(a.provider.as_deref().unwrap_or("-")),
            terminal_safe(a.subject.as_deref().unwrap_or("-")),
            terminal_safe(&a.outcome),
            terminal_safe(&a.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())
        );
    }
    Ok(())
}
