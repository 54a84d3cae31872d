//! `keyward recovery` (the kit: make, check, remove) and `keyward recover` (open a vault whose
//! keychain entry or passphrase is lost, and protect it anew).

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use keyward_core::Secret;
use keyward_core::api::{self, Home};

#[derive(Subcommand)]
pub enum RecoveryCmd {
    /// Make a recovery kit and print it once: a recovery key that opens this vault on any machine
    Kit {
        /// Replace the existing kit (the old recovery key stops working)
        #[arg(long)]
        replace: bool,
    },
    /// Whether a recovery kit opens this vault
    Status,
    /// Make the recovery kit stop working
    Remove,
}

pub fn run(home: &Home, cmd: RecoveryCmd) -> anyhow::Result<()> {
    let vault = crate::open(home)?;
    match cmd {
        RecoveryCmd::Kit { replace } => {
            if api::has_recovery_kit(&vault)? && !replace {
                bail!(
                    "this vault has a recovery kit already; `keyward recovery kit --replace` makes a new one and the old key stops working"
                );
            }
            let kit = api::create_recovery_kit(&vault)?;
            println!("KEYWARD RECOVERY KIT");
            println!();
            println!("Vault:        {}", kit.vault_id);
            println!("File:         {}", vault.path().display());
            println!("Made:         {}", kit.created_at);
            println!("Recovery key: {}", kit.recovery_key.expose());
            println!();
            println!("Print this, or keep it in a password manager, away from this machine. With the vault file,");
            println!("`keyward recover` opens the vault on any machine, even when its keychain entry or passphrase");
            println!("is lost. Whoever has both reads every secret in the vault. `keyward recovery kit --replace`");
            println!("makes a new kit and this one stops working.");
            if std::io::stdout().is_terminal() {
                eprintln!(
                    "keyward: the recovery key is shown only now; clear your terminal's scrollback once it is stored"
                );
            }
        }
        RecoveryCmd::Status => {
            if api::has_recovery_kit(&vault)? {
                println!("A recovery kit opens this vault.");
            } else {
                println!("No recovery kit: `keyward recovery kit` makes one.");
            }
        }
        RecoveryCmd::Remove => {
            if !api::has_recovery_kit(&vault)? {
                bail!("this vault has no recovery kit");
            }
            api::remove_recovery_kit(&vault)?;
            println!(
                "Removed: the recovery key no longer opens this vault file (copies made before still open with it)."
            );
        }
    }
    Ok(())
}

/// `keyward recover`: the recovery key from a file or typed (without echo); then the master key
/// goes to this machine's keychain or to a new passphrase.
pub fn recover(
    home: &Home,
    key_file: Option<&PathBuf>,
    to: &str,
    new_passphrase_file: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let key = match key_file {
        // The key alone on the file's first line, or the kit as `recovery kit` printed it.
        Some(path) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
            );
            let line = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Recovery key:"))
                .or_else(|| text.lines().next())
                .unwrap_or("")
                .trim();
            if line.is_empty() {
                bail!("{} holds no recovery key", path.display());
            }
            Secret::new(line.to_owned())
        }
        None if std::io::stdin().is_terminal() => {
            Secret::new(crate::prompt::secret("Recovery key", crate::prompt::Input::FirstLine)?.to_string())
        }
        None => bail!("give the recovery key with --recovery-key-file, or run this at a terminal to type it"),
    };
    let new = match to {
        "passphrase" => Some(crate::new_passphrase(new_passphrase_file)?),
        _ => None,
    };
    let vault = api::recover(home, &key, new.as_ref())?;
    println!(
        "Recovered {}: its master key is now protected by {}. The recovery kit still opens it.",
        vault.path().display(),
        if new.is_some() { "the new passphrase" } else { "this machine's OS keychain" }
    );
    Ok(())
}
