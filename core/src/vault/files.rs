//! The home's files are private to their user. The vault (and SQLite's `-wal` and `-shm` beside
//! it), the log and the policy name every key, owner and exposure path, and the vault holds the
//! wrapped master key: with the umask's usual modes (0755/0644) every other user of the machine
//! reads them. So the home is made 0700 and its files 0600 whatever the umask, and an open
//! checks them again (a restored backup, a copy, an older Keyward): too open is fixed and said.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The home folder's mode.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file in the home.
pub const FILE_MODE: u32 = 0o600;
/// The home's files besides the vault, checked when the vault opens.
const HOME_FILES: &[&str] = &["keyward.log", "policy.toml"];

/// Creates `dir` (and missing parents) readable by its user only.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates `path`, which must not exist yet, readable by its user only.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// Opens `path` for appending, creating it readable by its user only.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().append(true).create(true).mode(FILE_MODE).open(path)
}

/// Writes `path` atomically (a private temporary file beside it, renamed over it).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Unique per call, not only per process: two threads writing the same file must not
    // remove each other's temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = create_new(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Whether every entry of `home` is Keyward's: only then is the folder's mode ours to change
/// (`--home /tmp` must not make `/tmp` private; there it is said instead).
fn only_ours(home: &Path, vault_name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(home) else { return false };
    entries.flatten().all(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with(vault_name)
            || name.starts_with(&format!(".{vault_name}"))
            || HOME_FILES.iter().any(|f| name == *f || name.starts_with(&format!(".{f}")))
            || name == crate::demo::PROJECT_DIR
    })
}

/// Takes other users' access away from the vault's home and its files; says what it changed
/// (or could not, or must not).
pub fn tighten(vault: &Path) -> Vec<String> {
    let home = vault.parent().unwrap_or(Path::new("."));
    let name = vault.file_name().and_then(|n| n.to_str()).unwrap_or("vault.db");
    let mut said = Vec::new();
    let mut places: Vec<(PathBuf, u32)> = Vec::new();
    if only_ours(home, name) {
        places.push((home.to_owned(), DIR_MODE));
    } else if let Ok(meta) = home.metadata()
        && meta.permissions().mode() & 0o077 != 0
    {
        // Said in the log only: a user who chose a shared folder hears it once there, not on
        // every command.
        tracing::warn!(
            "{} holds other files and is open to other users (mode {:o}): they can list the vault's files (not read them)",
            home.display(),
            meta.permissions().mode() & 0o777
        );
    }
    for file in [name.to_owned(), format!("{name}-wal"), format!("{name}-shm")] {
        places.push((home.join(file), FILE_MODE));
    }
    places.extend(HOME_FILES.iter().map(|f| (home.join(f), FILE_MODE)));
    for (path, wanted) in places {
        // Never follow a link: the mode of whatever it points at is not ours to change.
        let Ok(meta) = path.symlink_metadata() else { continue };
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            continue;
        }
        let fixed = (mode & !0o077) | (wanted & 0o700);
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(fixed)) {
            Ok(()) => {
                said.push(format!("{} was readable by other users (mode {mode:o}); now {fixed:o}", path.display()))
            }
            Err(e) => said.push(format!(
                "{} is readable by other users (mode {mode:o}) and could not be changed: {e}",
                path.display()
            )),
        }
    }
    for s in &said {
        tracing::warn!("{s}");
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_files_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a/b");
        create_dir(&home).unwrap();
        assert_eq!(home.metadata().unwrap().permissions().mode() & 0o777, DIR_MODE);
        write_atomically(&home.join("policy.toml"), b"x").unwrap();
        assert_eq!(home.join("policy.toml").metadata().unwrap().permissions().mode() & 0o777, FILE_MODE);
        drop(open_append(&home.join("keyward.log")).unwrap());
        assert_eq!(home.join("keyward.log").metadata().unwrap().permissions().mode() & 0o777, FILE_MODE);
    }

    #[test]
    fn open_files_are_tightened_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o755)).unwrap();
        for f in ["vault.db", "vault.db-wal", "keyward.log"] {
            std::fs::write(home.join(f), "x").unwrap();
            std::fs::set_permissions(home.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(outside.path(), home.join("policy.toml")).unwrap();
        let said = tighten(&home.join("vault.db"));
        assert_eq!(said.len(), 4, "{said:?}");
        assert_eq!(home.metadata().unwrap().permissions().mode() & 0o777, 0o700);
        for f in ["vault.db", "vault.db-wal", "keyward.log"] {
            assert_eq!(home.join(f).metadata().unwrap().permissions().mode() & 0o777, 0o600, "{f}");
        }
        // A link is not followed.
        assert_eq!(outside.path().metadata().unwrap().permissions().mode() & 0o777, 0o644);
        assert!(tighten(&home.join("vault.db")).is_empty());
    }

    #[test]
    fn a_shared_folder_is_not_made_private_but_said() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::write(home.join("someone-elses.txt"), "x").unwrap();
        std::fs::write(home.join("vault.db"), "x").unwrap();
        std::fs::set_permissions(home.join("vault.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let said = tighten(&home.join("vault.db"));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("vault.db was readable"), "{said:?}");
        assert_eq!(home.metadata().unwrap().permissions().mode() & 0o7777, 0o1777);
        assert_eq!(home.join("vault.db").metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}
