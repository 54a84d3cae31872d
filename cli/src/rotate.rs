//! `keyward rotate` and `keyward rotations`: rotating a key on the command line, with its plan
//! first, each step as it happens, and the journal of every rotation.

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use keyward_core::api::{self, Home, RotationOptions, RotationPlanView, RotationView};

use crate::output::terminal_safe;

#[derive(Args)]
pub struct RotateArgs {
    /// The key's Keyward id (`keys list`)
    pub key: String,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Go ahead without asking
    #[arg(long)]
    pub yes: bool,
    /// How long the old key stays (disabled where the provider can) before it is deleted:
    /// 24h, 90m, 7d, 30s or 0 [default: the policy's rotation_grace_hours, 24h unless changed]
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// When the owner already holds the most keys the provider allows and the other one is
    /// inactive, delete that inactive key first (never an active one)
    #[arg(long)]
    pub delete_inactive: bool,
    /// Run this command (with `sh -c`) once the new key works, the new secret on its standard
    /// input (never in its arguments); KEYWARD_NEW_EXTERNAL_ID and others in its environment
    #[arg(long, value_name = "COMMAND")]
    pub hook: Option<String>,
    /// For a key rotated by hand (registered by hand, or a provider that cannot make keys): the
    /// new key you made, read from standard input (or typed, hidden); Keyward checks it where the
    /// provider can tell, then records it in the old key's place
    #[arg(long)]
    pub new_secret_stdin: bool,
    /// For a provider that asks for your password again before it makes a key (a Fastly
    /// automation token needs sudo mode): read it from standard input (or typed, hidden). Used
    /// for this rotation only, never stored
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Subcommand)]
pub enum RotationsCmd {
    /// Every rotation, newest first
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// One rotation with its journal
    Show {
        /// The rotation's id
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Go on with a rotation (after a crash or a failed step), or finish those whose grace
    /// period is over when no id is given
    Resume {
        /// The rotation's id
        id: Option<String>,
        /// Your password, for a provider that asks for it again before it makes a key (Fastly's
        /// sudo mode): read from standard input (or typed, hidden); never stored
        #[arg(long, requires = "id")]
        password_stdin: bool,
    },
    /// Undo a rotation before its old key is deleted: the old key comes back, the new one goes
    Abort {
        /// The rotation's id
        id: String,
    },
    /// The keys the policy (`auto`, `rotate_after_days`) says are due for rotation, and what the
    /// scheduled `rotations` job does with each
    Due {
        /// Do it now, as the scheduled job would: finish grace periods, propose, rotate
        #[arg(long)]
        run: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The user's password, asked for one rotation (never stored).
fn password() -> anyhow::Result<keyward_core::Secret> {
    Ok(keyward_core::Secret::new(crate::prompt::secret("Your password", crate::prompt::Input::FirstLine)?.to_string()))
}

fn say(line: &str) {
    eprintln!("  {}", terminal_safe(line));
}

pub fn rotate(home: &Home, args: RotateArgs) -> anyhow::Result<()> {
    let grace = args.grace.as_deref().map(api::parse_duration).transpose()?;
    let mut vault = crate::open(home)?;
    let opts = RotationOptions {
        grace: match grace {
            Some(g) => g,
            None => api::policy_grace(home, &vault, &args.key)?,
        },
        delete_inactive: args.delete_inactive,
        hook: args.hook.clone(),
        password: match args.password_stdin {
            true => Some(password()?),
            false => None,
        },
    };
    let runtime = crate::runtime()?;
    if let Some(steps) = api::rotation_guide(&vault, &args.key)? {
        return by_hand(&mut vault, &runtime, &args, &steps);
    }
    if args.new_secret_stdin {
        anyhow::bail!("Keyward makes this key's successor itself: leave out --new-secret-stdin");
    }
    let plan = runtime.block_on(api::plan_rotation(&mut vault, &args.key, &opts))?;
    print_plan(&plan);
    if let Some(why) = &plan.refusal {
        anyhow::bail!("{why}");
    }
    if args.dry_run {
        println!("Dry run: nothing changed.");
        return Ok(());
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!("not confirmed: pass --yes to rotate without a terminal");
        }
        eprint!("Rotate this key? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Not rotated.");
            return Ok(());
        }
    }
    let r = runtime.block_on(api::rotate(&mut vault, &args.key, &opts, &say))?;
    println!("{}", summary(&r));
    Ok(())
}

fn print_plan(p: &RotationPlanView) {
    println!(
        "Rotate {} ({} {}, owner {}) on {}:",
        terminal_safe(&p.key_name),
        p.provider,
        terminal_safe(p.external_id.as_deref().unwrap_or("-")),
        terminal_safe(p.owner.as_deref().unwrap_or("-")),
        terminal_safe(&p.account)
    );
    let held: Vec<String> = p
        .held
        .iter()
        .map(|k| format!("{} ({})", terminal_safe(&k.external_id), if k.active { "active" } else { "inactive" }))
        .collect();
    println!("  the owner holds: {}", if held.is_empty() { "no key".into() } else { held.join(", ") });
    for (i, s) in p.steps.iter().enumerate() {
        println!("  {}. {}", i + 1, terminal_safe(s));
    }
    if p.consumers.is_empty() {
        println!("  no file is known to use this key (`keyward scan` looks)");
    }
    if !p.handover.is_empty() {
        println!("  the new key goes into these lines (nothing else in the files changes):");
        for d in &p.handover {
            println!("    {}", terminal_safe(d));
        }
    }
    if !p.left_to_you.is_empty() {
        println!("  these keep the old key until you update them:");
        for d in &p.left_to_you {
            println!("    {}", terminal_safe(d));
        }
    }
}

/// A key Keyward cannot make: the steps, then (with `--new-secret-stdin`) the new secret taken,
/// checked and recorded.
fn by_hand(
    vault: &mut keyward_core::api::Vault,
    runtime: &tokio::runtime::Runtime,
    args: &RotateArgs,
    steps: &[String],
) -> anyhow::Result<()> {
    println!("Rotate {} by hand (Keyward cannot make this key):", terminal_safe(&args.key));
    for (i, step) in steps.iter().enumerate() {
        println!("  {}. {}", i + 1, terminal_safe(step));
    }
    if args.dry_run {
        return Ok(());
    }
    if !args.new_secret_stdin {
        anyhow::bail!("follow the steps above; a key registered by hand takes its new secret with --new-secret-stdin");
    }
    let raw = crate::prompt::secret("New secret", crate::prompt::Input::All)?;
    let done = runtime.block_on(api::rotate_by_hand(vault, &args.key, keyward_core::Secret::new(raw.to_string())))?;
    println!(
        "New key: {} ({}); the old key {} is retired.",
        done.new_key_id,
        terminal_safe(&done.checked),
        done.old_key_id
    );
    match done.old_still_works {
        Some(true) => println!("The old key still works at the provider: revoke it there."),
        Some(false) => println!("The old key no longer works at the provider."),
        None => println!("Whether the old key still works cannot be told: revoke it at the provider."),
    }
    for place in &done.still_in {
        println!("  still holds the old key: {}", terminal_safe(place));
    }
    Ok(())
}

fn summary(r: &RotationView) -> String {
    // A provider that would not delete the old key (New Relic's original license key).
    let kept =
        r.events.iter().rev().find(|e| e.step == "delete" && e.phase == "done").and_then(|e| {
            e.detail.split_once(" kept: ").map(|(_, why)| why.split("; still in ").next().unwrap_or(why))
        });
    match r.state.as_str() {
        "done" if kept.is_some() => format!(
            "Rotated: {} is the new key; the old {} still works, because the provider would not delete it ({}): delete it yourself (rotation {}).",
            terminal_safe(r.new_external_id.as_deref().unwrap_or("-")),
            terminal_safe(&r.old_external_id),
            terminal_safe(kept.unwrap_or_default()),
            terminal_safe(&r.id)
        ),
        "done" => format!(
            "Rotated: {} replaced by {} (rotation {}).",
            terminal_safe(&r.old_external_id),
            terminal_safe(r.new_external_id.as_deref().unwrap_or("-")),
            terminal_safe(&r.id)
        ),
        "grace" => format!(
            "Rotated: {} is the new key; the old {} is deleted after {} (rotation {}; `keyward rotations resume` then, or the daemon does it).",
            terminal_safe(r.new_external_id.as_deref().unwrap_or("-")),
            terminal_safe(&r.old_external_id),
            terminal_safe(r.grace_until.as_deref().unwrap_or("its grace period")),
            terminal_safe(&r.id)
        ),
        "rolled_back" => format!(
            "Rolled back: {}; the old key {} is kept (rotation {}).",
            terminal_safe(r.error.as_deref().unwrap_or("")),
            terminal_safe(&r.old_external_id),
            terminal_safe(&r.id)
        ),
        state => {
            format!("Rotation {} is {} at step {}.", terminal_safe(&r.id), terminal_safe(state), terminal_safe(&r.step))
        }
    }
}

pub fn rotations(home: &Home, cmd: RotationsCmd) -> anyhow::Result<()> {
    match cmd {
        RotationsCmd::List { json } => {
            let vault = crate::open(home)?;
            let list = api::list_rotations(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No rotations.");
            } else {
                println!("{:<36}  {:<12}  {:<12}  {:<22}  NEW", "ID", "STATE", "STEP", "OLD");
                for r in &list {
                    println!(
                        "{:<36}  {:<12}  {:<12}  {:<22}  {}",
                        terminal_safe(&r.id),
                        terminal_safe(&r.state),
                        terminal_safe(&r.step),
                        terminal_safe(&r.old_external_id),
                        terminal_safe(r.new_external_id.as_deref().unwrap_or("-"))
                    );
                }
            }
        }
        RotationsCmd::Show { id, json } => {
            let vault = crate::open(home)?;
            let r = api::rotation_by_id(&vault, &id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!("{}", summary(&r));
                for h in &r.handovers {
                    let note = if h.note.is_empty() { String::new() } else { format!(" ({})", h.note) };
                    println!("  file {}: {}{}", terminal_safe(&h.path), terminal_safe(&h.state), terminal_safe(&note));
                }
                for e in &r.events {
                    println!(
                        "  {}  {:<12} {:<10} {}",
                        terminal_safe(&e.at),
                        terminal_safe(&e.step),
                        terminal_safe(&e.phase),
                        terminal_safe(&e.detail)
                    );
                }
            }
        }
        RotationsCmd::Resume { id: Some(id), password_stdin } => {
            let password = if password_stdin { Some(password()?) } else { None };
            let mut vault = crate::open(home)?;
            let r = crate::runtime()?.block_on(api::resume_rotation_with_password(
                &mut vault,
                &id,
                password.as_ref(),
                &say,
            ))?;
            println!("{}", summary(&r));
        }
        RotationsCmd::Resume { id: None, .. } => {
            let mut vault = crate::open(home)?;
            let done = crate::runtime()?.block_on(api::finish_due_rotations(&mut vault))?;
            if done.is_empty() {
                println!("No rotation is past its grace period.");
            }
            let mut failed = 0;
            for (id, r) in done {
                match r {
                    Ok(r) => println!("{}", summary(&r)),
                    Err(e) => {
                        failed += 1;
                        eprintln!("rotation {id}: {e}");
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} rotations could not be finished");
            }
        }
        RotationsCmd::Abort { id } => {
            let mut vault = crate::open(home)?;
            let r = crate::runtime()?.block_on(api::abort_rotation(&mut vault, &id, &say))?;
            println!("{}", summary(&r));
        }
        RotationsCmd::Due { run: true, json: _ } => {
            let mut vault = crate::open(home)?;
            println!("{}", crate::runtime()?.block_on(api::rotations_job(home, &mut vault, None))?);
        }
        RotationsCmd::Due { run: false, json } => {
            let vault = crate::open(home)?;
            let due = api::due_rotations(home, &vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&due)?);
            } else if due.is_empty() {
                println!("No key is due for rotation under the policy's `auto` (see `keyward policy show`).");
            } else {
                println!("{:<36}  {:<14}  {:>5}  {:<8}  {:<8}  WHY", "KEY", "PROVIDER", "DAYS", "AUTO", "NEXT RUN");
                for d in &due {
                    println!(
                        "{:<36}  {:<14}  {:>5}  {:<8}  {:<8}  {}",
                        terminal_safe(&d.key_id),
                        terminal_safe(&d.provider),
                        d.age_days,
                        d.auto,
                        d.action,
                        terminal_safe(&d.why)
                    );
                }
            }
        }
    }
    Ok(())
}
