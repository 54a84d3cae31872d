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
    let value = rest.trim_start().trim_end_matches(['\r', '\n']);
    let value = value.trim_end();
    let (from, mut len) = (start + sep + 1 + lead, value.len());
    let mut from = from;
    if len >= 2 && (value.starts_with('"') && value.ends_with('"') || value.starts_with('\'') && value.ends_with('\''))
    {
        from += 1;
        len -= 2;
    }
    Some((name, from..from + len))
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

/// Reads a file to hand over to: a regular file (not a link, which could point anywhere), UTF-8.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("not a regular file (a link or a device): update it by hand".into());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

/// Writes `text` over `path` atomically, with the file's own mode: a temporary file beside it,
/// synced, renamed over it.
pub(crate) fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.keyward-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = crate::vault::files::create_new(&tmp).and_then(|mut f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
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
