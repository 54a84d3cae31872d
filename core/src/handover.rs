//! Hand-over: putting a rotated key into the files that use it. The exposure sweep knows where a
//! key's id was seen (`exposure::consumers`); for an AWS access key that is a line
//! `aws_access_key_id = AKIA…` in `~/.aws/credentials` (or `config`), or `AWS_ACCESS_KEY_ID=…`
//! in a `.env` file, with its secret on a line beside it. A hand-over changes the two values and
//! nothing else: comments, order, other keys and other profiles stay byte for byte — what
//! `aws configure` and the rotation tools users complain about do not.
//!
//! Planned before anything is created (the file's digest and the lines to change), written only
//! if the file is still exactly as planned (a file the user changed meanwhile is refused, never
//! overwritten), atomically with the file's own mode, its original kept sealed in the vault to
//! restore on rollback. Files the hand-over cannot read the shape of are listed for the user.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use keyward_connectors::providers::InFiles;

use crate::Secret;

/// One line to change: its 0-based index, and whether it holds the id or the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Edit {
    pub line: usize,
    pub secret: bool,
}

/// A planned hand-over to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub path: PathBuf,
    /// SHA-256 of the file as planned.
    pub digest: Vec<u8>,
    pub edits: Vec<Edit>,
    /// The lines as they will change, the values masked.
    pub diff: Vec<String>,
}

/// Why a file that uses the key is left to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub path: PathBuf,
    pub why: String,
}

/// The name and the value's byte range of an assignment line (`name = value`, `name=value`,
/// `export NAME="value"`, `name: value`), quotes excluded; `None` for any other line.
fn assignment(line: &str) -> Option<(String, std::ops::Range<usize>)> {
    let trimmed = line.trim_start();
    let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
    let start = line.len() - body.len();
    let sep = body.find(['=', ':'])?;
    let name = body[..sep].trim().to_ascii_lowercase();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let rest = &body[sep + 1..];
    let lead = rest.len() - rest.trim_start().len();
    let value = rest.trim_start().trim_end_matches(['\r', '\n']).trim_end();
    let from = start + sep + 1 + lead;
    match value.chars().next() {
        // Quoted: the quotes stay; a quote not closed on this line (a value over several lines)
        // is not a shape Keyward edits.
        Some(q @ ('"' | '\'')) => {
            let close = value[1..].find(q)? + 1;
            Some((name, from + 1..from + close))
        }
        // Unquoted: up to a ` #` comment, which stays.
        _ => {
            let end = value.find(" #").map_or(value.len(), |i| value[..i].trim_end().len());
            Some((name, from..from + end))
        }
    }
}

/// Whether a line opens an INI section (`[profile prod]`).
fn is_section(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// Plans the hand-over of the key `old_id` to the file `text` at `path`: the line assigning the
/// id (named as the provider says, `names`) and its secret's line in the same section (INI) or
/// file (environment files).
pub(crate) fn plan(names: &InFiles, path: &Path, text: &str, old_id: &str) -> Result<Planned, Skipped> {
    let is = |list: &[&str], name: &str| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    let skip = |why: &str| Skipped { path: path.to_owned(), why: why.to_owned() };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let id_lines: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| assignment(l).is_some_and(|(name, v)| is(names.id, &name) && &l[v] == old_id))
        .map(|(i, _)| i)
        .collect();
    let [id_line] = id_lines[..] else {
        return Err(skip(if id_lines.is_empty() {
            "the key id is not on a line Keyward knows the shape of (name = value)"
        } else {
            "the key id is on more than one line"
        }));
    };
    // The block the id is in: its INI section, or the whole file when there is none.
    let start = (0..id_line).rev().find(|&i| is_section(lines[i])).map_or(0, |i| i + 1);
    let end = (id_line + 1..lines.len()).find(|&i| is_section(lines[i])).unwrap_or(lines.len());
    let secrets: Vec<usize> =
        (start..end).filter(|&i| assignment(lines[i]).is_some_and(|(name, _)| is(names.secret, &name))).collect();
    let [secret_line] = secrets[..] else {
        return Err(skip(if secrets.is_empty() {
            "no secret assigned beside the key id"
        } else {
            "more than one secret assigned beside the key id"
        }));
    };
    let name_of = |i: usize| lines[i].split(['=', ':']).next().unwrap_or_default().trim().to_owned();
    let diff = vec![
        format!("{}:{}  {} = {} → (the new key's id)", path.display(), id_line + 1, name_of(id_line), old_id),
        format!("{}:{}  {} = •••• → (the new secret)", path.display(), secret_line + 1, name_of(secret_line)),
    ];
    Ok(Planned {
        path: path.to_owned(),
        digest: digest(text.as_bytes()),
        edits: vec![Edit { line: id_line, secret: false }, Edit { line: secret_line, secret: true }],
        diff,
    })
}

/// The file's new text: each edited line's value replaced, every other byte kept. `None` when a
/// planned line no longer has the shape planned (the file changed).
pub(crate) fn apply(text: &str, edits: &[Edit], new_id: &str, new_secret: &Secret) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for e in edits {
        let line = lines.get_mut(e.line)?;
        let (_, range) = assignment(line)?;
        let value = if e.secret { new_secret.expose() } else { new_id };
        line.replace_range(range, value);
    }
    Some(lines.concat())
}

/// SHA-256 of a file's bytes.
pub(crate) fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The largest file a hand-over reads (credentials and environment files are small).
const LARGEST: u64 = 1 << 20;

/// Whether a file's name says it holds credentials or an environment: `credentials` and
/// `config` in a `.aws` folder, `.env`, `.env.*`, `*.env`. Any other file that happens to
/// assign the key (a `settings.py`, a compose file, a README's example) is the user's: writing a
/// live secret there could end up committed.
pub(crate) fn is_credentials_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let in_aws = path.parent().and_then(Path::file_name).is_some_and(|d| d == ".aws");
    (in_aws && (name == "credentials" || name == "config"))
        || name == ".env"
        || name.starts_with(".env.")
        || name.ends_with(".env")
}

/// Whether `path` is inside a git work tree and not ignored there: a file such a repository may
/// commit. Read from the repository's `.gitignore` files, never by running git.
pub(crate) fn may_be_committed(path: &Path) -> bool {
    let Some(root) = path.ancestors().skip(1).find(|d| d.join(".git").exists()) else { return false };
    let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
    let mut dir = path.parent();
    while let Some(d) = dir {
        builder.add(d.join(".gitignore"));
        if d == root {
            break;
        }
        dir = d.parent();
    }
    builder.add(root.join(".git/info/exclude"));
    match builder.build() {
        Ok(ignore) => !ignore.matched_path_or_any_parents(path, false).is_ignore(),
        Err(_) => true,
    }
}

/// A file a hand-over may write, reached without following any link: its folder held open (each
/// folder on the way opened with `O_NOFOLLOW`, owned by this user or root and writable by no one
/// else, unless root's and sticky like /tmp), so the read, the checks and the rename all happen
/// in the same folder even if someone renames or links folders meanwhile.
pub(crate) struct Place {
    dir: std::os::fd::OwnedFd,
    name: std::ffi::CString,
}

fn errno(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn fstat(fd: std::os::fd::RawFd) -> Result<libc::stat, String> {
    // SAFETY: `st` is written by fstat before it is read; the fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(errno("cannot be examined"));
    }
    Ok(st)
}

impl Place {
    /// Opens the folder of `path` (absolute), refusing links and folders others can change.
    pub(crate) fn open(path: &Path) -> Result<Self, String> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        use std::os::unix::ffi::OsStrExt;
        if !path.is_absolute() {
            return Err("not an absolute path".into());
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err("no file name".into());
        };
        let me = unsafe { libc::geteuid() };
        let cstr = |b: &[u8]| std::ffi::CString::new(b).map_err(|_| "a NUL byte in the path".to_owned());
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid C string; the result is checked.
        let fd = unsafe { libc::open(c"/".as_ptr(), flags) };
        if fd < 0 {
            return Err(errno("/ cannot be opened"));
        }
        // SAFETY: `fd` was just opened and is owned here only.
        let mut dir = unsafe { OwnedFd::from_raw_fd(fd) };
        let check = |dir: &OwnedFd, which: &str| -> Result<(), String> {
            let st = fstat(dir.as_raw_fd())?;
            let others_write = st.st_mode & 0o022 != 0;
            let sticky_root = st.st_uid == 0 && st.st_mode & libc::S_ISVTX != 0;
            if st.st_uid != me && st.st_uid != 0 {
                return Err(format!("folder {which} belongs to another user: not written"));
            }
            if others_write && !sticky_root {
                return Err(format!("folder {which} can be changed by other users: not written"));
            }
            Ok(())
        };
        check(&dir, "/")?;
        let mut walked = std::path::PathBuf::from("/");
        for part in parent.components().skip(1) {
            walked.push(part);
            let c = cstr(part.as_os_str().as_bytes())?;
            // SAFETY: an open directory fd and a valid C string; the result is checked.
            let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) };
            if fd < 0 {
                return Err(errno(&format!("folder {} (a link, or missing)", walked.display())));
            }
            // SAFETY: as above.
            dir = unsafe { OwnedFd::from_raw_fd(fd) };
            check(&dir, &walked.display().to_string())?;
        }
        Ok(Self { dir, name: cstr(name.as_bytes())? })
    }

    /// The file's text and its owner, group and mode: a regular file of this user (not a link,
    /// a device or a pipe), at most 1 MiB, UTF-8.
    pub(crate) fn read(&self) -> Result<(String, libc::stat), String> {
        use std::io::Read;
        use std::os::fd::{AsRawFd, FromRawFd};
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: an open directory fd and a valid C string; the result is checked.
        let fd = unsafe { libc::openat(self.dir.as_raw_fd(), self.name.as_ptr(), flags) };
        if fd < 0 {
            return Err(errno("cannot be opened (a link, or missing)"));
        }
        // SAFETY: `fd` was just opened and is owned by the File only.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        let st = fstat(fd)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err("not a regular file: update it by hand".into());
        }
        if st.st_uid != unsafe { libc::geteuid() } {
            return Err("belongs to another user: not written".into());
        }
        if st.st_size as u64 > LARGEST {
            return Err("larger than 1 MiB: not a credentials file".into());
        }
        let mut bytes = Vec::new();
        file.by_ref().take(LARGEST + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot be read: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
        Ok((text, st))
    }

    /// The temporary file a replacement goes through: named after the rotation and the file, so a
    /// leftover of a killed run is found and removed.
    fn tmp_name(&self, tag: &str) -> std::ffi::CString {
        let mut name = b".".to_vec();
        name.extend_from_slice(self.name.as_bytes());
        name.extend_from_slice(format!(".keyward-{tag}").as_bytes());
        std::ffi::CString::new(name).expect("no NUL in the parts")
    }

    /// Removes the temporary file of `tag`, if a killed run left one.
    pub(crate) fn clean(&self, tag: &str) {
        use std::os::fd::AsRawFd;
        let tmp = self.tmp_name(tag);
        // SAFETY: an open directory fd and a valid C string; a missing file is fine.
        unsafe { libc::unlinkat(self.dir.as_raw_fd(), tmp.as_ptr(), 0) };
    }

    /// Replaces the file with `text`, atomically: a temporary file in the same folder with the
    /// old file's group and permission bits (never set-id or sticky), synced, renamed over it.
    pub(crate) fn replace(&self, text: &str, was: &libc::stat, tag: &str) -> Result<(), String> {
        use std::io::Write;
        use std::os::fd::{AsRawFd, FromRawFd};
        self.clean(tag);
        let tmp = self.tmp_name(tag);
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: an open directory fd and a valid C string; the result is checked.
        let fd = unsafe { libc::openat(self.dir.as_raw_fd(), tmp.as_ptr(), flags, 0o600 as libc::c_uint) };
        if fd < 0 {
            return Err(errno("the temporary file cannot be made"));
        }
        // SAFETY: `fd` was just opened and is owned by the File only.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        let done = (|| {
            // SAFETY: an open fd; the results are checked.
            if unsafe { libc::fchown(fd, u32::MAX, was.st_gid) } != 0 {
                return Err(errno("the file's group cannot be kept"));
            }
            if unsafe { libc::fchmod(fd, was.st_mode & 0o777) } != 0 {
                return Err(errno("the file's mode cannot be kept"));
            }
            file.write_all(text.as_bytes()).map_err(|e| format!("cannot be written: {e}"))?;
            file.sync_all().map_err(|e| format!("cannot be written: {e}"))?;
            // SAFETY: open directory fds and valid C strings; the result is checked.
            if unsafe { libc::renameat(self.dir.as_raw_fd(), tmp.as_ptr(), self.dir.as_raw_fd(), self.name.as_ptr()) }
                != 0
            {
                return Err(errno("cannot be replaced"));
            }
            Ok(())
        })();
        if done.is_err() {
            self.clean(tag);
        }
        done
    }
}

/// Reads a file to hand over to (see [`Place`]); the plan's check.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    Place::open(path)?.read().map(|(text, _)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: InFiles = InFiles { id: &["aws_access_key_id"], secret: &["aws_secret_access_key"] };

    const CREDENTIALS: &str = "# my keys\n[default]\naws_access_key_id = AKIAOLD0000000000001\naws_secret_access_key=oldsecret ; not a comment\nregion = eu-west-1\n\n[prod]  \n# rotated by hand in 2024\naws_secret_access_key   =   prodsecret\naws_access_key_id =  AKIAOLD0000000000002\nmfa_serial = arn:aws:iam::1:mfa/ana\n";

    #[test]
    fn only_the_two_values_of_the_right_profile_change() {
        let p = plan(&AWS, Path::new("credentials"), CREDENTIALS, "AKIAOLD0000000000002").unwrap();
        assert_eq!(p.edits, vec![Edit { line: 9, secret: false }, Edit { line: 8, secret: true }]);
        assert!(p.diff.iter().all(|d| !d.contains("prodsecret")), "{:?}", p.diff);
        let new = apply(CREDENTIALS, &p.edits, "AKIANEW0000000000002", &Secret::new("newsecret".into())).unwrap();
        let want = CREDENTIALS
            .replace("aws_access_key_id =  AKIAOLD0000000000002", "aws_access_key_id =  AKIANEW0000000000002")
            .replace("aws_secret_access_key   =   prodsecret", "aws_secret_access_key   =   newsecret");
        assert_eq!(new, want);
    }

    #[test]
    fn environment_files_keep_their_quotes_and_exports() {
        let env = "export AWS_ACCESS_KEY_ID=\"AKIAOLD0000000000003\"\r\nAWS_SECRET_ACCESS_KEY='s3cr3t'\r\nOTHER=1\r\n";
        let p = plan(&AWS, Path::new(".env"), env, "AKIAOLD0000000000003").unwrap();
        let new = apply(env, &p.edits, "AKIANEW0000000000003", &Secret::new("fresh".into())).unwrap();
        assert_eq!(
            new,
            "export AWS_ACCESS_KEY_ID=\"AKIANEW0000000000003\"\r\nAWS_SECRET_ACCESS_KEY='fresh'\r\nOTHER=1\r\n"
        );
    }

    #[test]
    fn comments_stay_and_multi_line_values_are_not_edited() {
        let env = "AWS_ACCESS_KEY_ID=AKIAOLD0000000000007 # deploy\nAWS_SECRET_ACCESS_KEY=\"abc\" # keep me\n";
        let p = plan(&AWS, Path::new(".env"), env, "AKIAOLD0000000000007").unwrap();
        let new = apply(env, &p.edits, "AKIANEW0000000000007", &Secret::new("xyz".into())).unwrap();
        assert_eq!(new, "AWS_ACCESS_KEY_ID=AKIANEW0000000000007 # deploy\nAWS_SECRET_ACCESS_KEY=\"xyz\" # keep me\n");
        let open_quote = "AWS_ACCESS_KEY_ID=AKIAOLD0000000000008\nAWS_SECRET_ACCESS_KEY=\"abc\ndef\"\n";
        assert!(plan(&AWS, Path::new(".env"), open_quote, "AKIAOLD0000000000008").is_err());
    }

    #[test]
    fn only_credentials_and_environment_files_are_written() {
        for yes in ["/home/a/.aws/credentials", "/home/a/.aws/config", "/p/.env", "/p/.env.production", "/p/app.env"] {
            assert!(is_credentials_file(Path::new(yes)), "{yes}");
        }
        for no in ["/p/settings.py", "/p/credentials", "/p/docker-compose.yml", "/p/README.md", "/p/config"] {
            assert!(!is_credentials_file(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn files_a_repository_may_commit_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
        std::fs::create_dir(dir.path().join("deploy")).unwrap();
        assert!(!may_be_committed(&dir.path().join(".env")), "ignored");
        assert!(may_be_committed(&dir.path().join("deploy/prod.env")), "not ignored");
        let outside = tempfile::tempdir().unwrap();
        assert!(!may_be_committed(&outside.path().join(".env")), "no repository");
    }

    #[test]
    fn a_file_in_a_folder_others_can_change_or_behind_a_link_is_not_written() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::write(shared.join(".env"), "A=1\n").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(read(&shared.join(".env")).unwrap_err().contains("can be changed by other users"));
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(read(&shared.join(".env")).unwrap(), "A=1\n");
        std::os::unix::fs::symlink(&shared, dir.path().join("link")).unwrap();
        assert!(read(&dir.path().join("link/.env")).is_err(), "a link on the way");
        std::os::unix::fs::symlink(shared.join(".env"), shared.join("other.env")).unwrap();
        assert!(read(&shared.join("other.env")).is_err(), "a link as the file");
        // The replacement keeps the permission bits but never set-id ones.
        std::fs::set_permissions(shared.join(".env"), std::fs::Permissions::from_mode(0o4640)).unwrap();
        let place = Place::open(&shared.join(".env")).unwrap();
        let (_, st) = place.read().unwrap();
        place.replace("A=2\n", &st, "t").unwrap();
        let meta = std::fs::metadata(shared.join(".env")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
        assert_eq!(std::fs::read_to_string(shared.join(".env")).unwrap(), "A=2\n");
        assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 2, "no temporary file left");
    }

    #[test]
    fn shapes_it_cannot_read_are_left_to_the_user() {
        let no_secret = "[a]\naws_access_key_id = AKIAOLD0000000000004\n[b]\naws_secret_access_key = x\n";
        assert!(plan(&AWS, Path::new("c"), no_secret, "AKIAOLD0000000000004").unwrap_err().why.contains("no secret"));
        let twice =
            "aws_access_key_id=AKIAOLD0000000000005\naws_access_key_id=AKIAOLD0000000000005\naws_secret_access_key=x\n";
        assert!(plan(&AWS, Path::new("c"), twice, "AKIAOLD0000000000005").is_err());
        let prose = "the key AKIAOLD0000000000006 is in the wiki\n";
        assert!(plan(&AWS, Path::new("c"), prose, "AKIAOLD0000000000006").is_err());
        // A planned line that lost its shape: not applied.
        let edits = [Edit { line: 0, secret: false }];
        assert_eq!(apply("no assignment here\n", &edits, "x", &Secret::new("y".into())), None);
    }
}
