//! Keys in git history: every blob reachable from any ref that is not in `HEAD`'s tree (those
//! are scanned as files in the working tree), read through the `git` command.
//!
//! Why the command and not a Rust git library: `gix` or `git2` would add hundreds of crates (or
//! libgit2) to the build for three plumbing calls, and a machine with git repositories has git.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    // A repository owned by another user is still scanned: we only read it.
    c.arg("-c").arg("safe.directory=*").arg("-C").arg(repo);
    c.stdin(Stdio::null()).stderr(Stdio::piped());
    c
}

fn lines(repo: &Path, args: &[&str]) -> Result<Vec<String>, String> {
    let out = git(repo).args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {}: {}", args[0], String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

/// The commits of the history blobs of `repo`: calls `each(path, content, commit_of)` for every
/// blob up to `max` bytes that is reachable from a ref but not in `HEAD`; `commit_of()` finds
/// the first commit that added it (only asked for blobs with hits). `each` returns false to stop.
pub(super) fn history(
    repo: &Path,
    max: u64,
    mut each: impl FnMut(&str, &[u8], &dyn Fn() -> Option<String>) -> bool,
) -> Result<(), String> {
    let head: std::collections::HashSet<String> =
        lines(repo, &["ls-tree", "-r", "--format=%(objectname)", "HEAD"]).unwrap_or_default().into_iter().collect();
    let mut paths: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in lines(repo, &["rev-list", "--all", "--objects"])? {
        if let Some((sha, path)) = l.split_once(' ')
            && !path.is_empty()
            && !head.contains(sha)
            && seen.insert(sha.to_owned())
        {
            paths.push((sha.to_owned(), path.to_owned()));
        }
    }
    if paths.is_empty() {
        return Ok(());
    }
    let mut child = git(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let shas: Vec<String> = paths.iter().map(|(s, _)| s.clone()).collect();
    let feeder = std::thread::spawn(move || {
        for s in shas {
            if writeln!(stdin, "{s}").is_err() {
                break;
            }
        }
    });
    let mut out = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
    let mut header = String::new();
    let mut content = Vec::new();
    let mut result = Ok(());
    for (sha, path) in &paths {
        header.clear();
        if out.read_line(&mut header).map_err(|e| e.to_string())? == 0 {
            result = Err("git cat-file ended early".to_owned());
            break;
        }
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next().and_then(|s| s.parse::<u64>().ok()));
        let Some(size) = size else { continue }; // "<sha> missing"
        content.clear();
        (&mut out).take(size + 1).read_to_end(&mut content).map_err(|e| e.to_string())?;
        content.truncate(size as usize);
        if kind != Some("blob") || size > max || memchr::memchr(0, &content[..content.len().min(8192)]).is_some() {
            continue;
        }
        let commit_of = || {
            lines(repo, &["log", "--all", "--format=%H", &format!("--find-object={sha}")])
                .ok()
                .and_then(|l| l.last().cloned())
        };
        if !each(path, &content, &commit_of) {
            break;
        }
    }
    drop(out);
    let _ = child.kill();
    let _ = child.wait();
    let _ = feeder.join();
    result
}
