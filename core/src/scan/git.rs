//! Keys in git history: every blob reachable from any ref (stashes included) that is not a file
//! of `HEAD` still in the working tree (the walk reads those), read through the `git` command.
//!
//! Why the command and not a Rust git library: `gix` or `git2` would add hundreds of crates (or
//! libgit2) to the build for a few plumbing calls, and a machine with git repositories has git.
//!
//! Why so guarded: a scanned repository is the attacker's. Its own `.git/config` can name
//! programs git runs (`gpg.program` with `log.showSignature`, `core.fsmonitor`, textconv and
//! filter drivers, `diff.external`, a pager, hooks, a promisor remote behind `ext::`), and the
//! scheduled scan reaches it unattended with the vault's passphrase in its environment. So:
//! - a repository the user does not own is not read at all (git's own `safe.directory` rule,
//!   without the escape hatch), nor one whose `.git` is a link, borrows objects from elsewhere, or
//!   holds a FIFO where git opens a file; the scan says which and why;
//! - every git command is killed after [`GIT_DEADLINE`], and none has a pipe nobody reads;
//! - only plumbing that runs no configured program is used (`ls-tree`, `rev-list`, `cat-file`
//!   without `--textconv`/`--filters`, `diff-tree` with `--no-ext-diff --no-textconv`) — never
//!   `log`, which honours `log.showSignature`;
//! - git gets an environment cleared down to `PATH` and switches that keep system and global
//!   configuration, lazy fetches, replace refs and optional locks out, and `-c` overrides that
//!   disarm every transport, hook and monitor the repository could still reach.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Settings given on the command line, which win over the repository's own: no transport (a
/// promisor remote could be `ext::<program>`), no hooks, no file-system monitor, no pager,
/// no external diff, no signature program, no credential or askpass helper.
const DISARM: &[&str] = &[
    "protocol.allow=never",
    "protocol.file.allow=never",
    "protocol.git.allow=never",
    "protocol.ssh.allow=never",
    "protocol.http.allow=never",
    "protocol.https.allow=never",
    "protocol.ext.allow=never",
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.askPass=",
    "diff.external=",
    "log.showSignature=false",
    "gpg.program=false",
    "gpg.ssh.program=false",
    "gpg.x509.program=false",
    "credential.helper=",
];

/// The longest one git command may run before it is killed: a repository crafted to make git
/// block (a FIFO it opens, a pipe it fills) must not hang the scheduled scan for ever.
const GIT_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// Why `repo`'s history must not be read, if it must not: it (or its git directory) belongs to
/// another user, whose configuration would choose what git runs; its `.git` is a link (to
/// someone else's repository); it borrows objects or config from elsewhere (`commondir`,
/// alternates); or a file git opens is not a regular file (a FIFO would block git).
pub(super) fn refuse(repo: &Path) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let git_dir = repo.join(".git");
    for dir in [repo.to_owned(), git_dir.clone()] {
        match dir.symlink_metadata() {
            Ok(m) if m.file_type().is_symlink() => {
                return Some(format!("history not scanned: {} is a symbolic link", dir.display()));
            }
            Ok(m) if m.uid() == me => {}
            Ok(m) => {
                return Some(format!(
                    "history not scanned: {} is owned by uid {}, not by you (uid {me}); its git configuration could run programs",
                    dir.display(),
                    m.uid()
                ));
            }
            Err(e) => return Some(format!("history not scanned: {}: {e}", dir.display())),
        }
    }
    if git_dir.join("commondir").symlink_metadata().is_ok() {
        return Some(format!(
            "history not scanned: {} takes its objects from another repository (commondir)",
            git_dir.display()
        ));
    }
    let alternates = git_dir.join("objects/info/alternates");
    if alternates.symlink_metadata().is_ok_and(|m| !m.is_file() || m.len() > 0) {
        return Some(format!(
            "history not scanned: {} borrows objects from other repositories (alternates)",
            git_dir.display()
        ));
    }
    for file in ["HEAD", "config", "packed-refs", "shallow", "objects/info/packs", "info/grafts"] {
        let path = git_dir.join(file);
        if let Ok(m) = path.symlink_metadata()
            && !m.is_file()
        {
            return Some(format!("history not scanned: {} is not a regular file", path.display()));
        }
    }
    None
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ATTR_NOSYSTEM", "1")
        .env("GIT_NO_LAZY_FETCH", "1")
        // Older gits ignore GIT_NO_LAZY_FETCH; no protocol at all is allowed, whatever a
        // repository's `protocol.<name>.allow` says.
        .env("GIT_ALLOW_PROTOCOL", "none")
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PROTOCOL_FROM_USER", "0")
        .env("LC_ALL", "C");
    for setting in DISARM {
        c.arg("-c").arg(setting);
    }
    // The git directory by name: no discovery walking up into a parent's repository.
    c.arg("--git-dir").arg(repo.join(".git"));
    // Nobody reads a batch command's stderr while it runs: a repository that makes git write
    // a lot there would fill the pipe and block it.
    c.stdin(Stdio::null()).stderr(Stdio::null());
    c
}

/// Kills a child that outlives [`GIT_DEADLINE`]; dropped (disarmed) when the child is done.
struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn arm(child: &Child) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let (flag, pid) = (done.clone(), child.id() as libc::pid_t);
        std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Acquire) {
                if started.elapsed() > GIT_DEADLINE {
                    // SAFETY: the child has not been waited for (the flag is set before that),
                    // so its pid is still its own.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
    }
}

fn lines(repo: &Path, args: &[&str]) -> Result<Vec<String>, String> {
    let child = git(repo)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let watchdog = Watchdog::arm(&child);
    let out = child.wait_with_output().map_err(|e| format!("git {}: {e}", args[0]));
    drop(watchdog);
    let out = out?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: String = stderr.lines().next().unwrap_or("").chars().take(300).collect();
        return Err(format!("git {}: {}", args[0], if first.is_empty() { "stopped".into() } else { first }));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

/// A git command that reads one line per item on its standard input, fed from a thread so
/// neither side blocks on a full pipe.
struct Batch {
    child: Child,
    out: BufReader<ChildStdout>,
    feeder: Option<std::thread::JoinHandle<()>>,
    _watchdog: Watchdog,
}

impl Batch {
    fn start(repo: &Path, args: &[&str], input: Vec<String>) -> Result<Batch, String> {
        let mut child = git(repo)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let watchdog = Watchdog::arm(&child);
        let mut stdin = child.stdin.take().expect("piped");
        let feeder = std::thread::spawn(move || {
            for item in input {
                if writeln!(stdin, "{item}").is_err() {
                    break;
                }
            }
        });
        let out = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
        Ok(Batch { child, out, feeder: Some(feeder), _watchdog: watchdog })
    }

    /// The next line, without its newline; `None` at the end.
    fn line(&mut self, buf: &mut String) -> Result<Option<()>, String> {
        buf.clear();
        if self.out.read_line(buf).map_err(|e| e.to_string())? == 0 {
            return Ok(None);
        }
        buf.truncate(buf.trim_end_matches('\n').len());
        Ok(Some(()))
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(f) = self.feeder.take() {
            let _ = f.join();
        }
    }
}

/// The oldest commit (of `commits`, oldest first) whose diff adds or changes blob `sha` — merge
/// commits included (`-m`: a stash's work-in-progress commit is one).
fn introducing_commit(repo: &Path, commits: &[String], sha: &str) -> Option<String> {
    let find = format!("--find-object={sha}");
    let args =
        ["diff-tree", "--stdin", "--root", "-m", "-r", "-s", "--no-ext-diff", "--no-textconv", &find, "--format=%H"];
    let mut batch = Batch::start(repo, &args, commits.to_vec()).ok()?;
    let mut line = String::new();
    while batch.line(&mut line).ok()?.is_some() {
        if !line.is_empty() {
            return Some(line);
        }
    }
    None
}

/// What a history hit says when no commit could be named for it (it is in history all the same).
pub(super) const UNKNOWN_COMMIT: &str = "unknown";

/// The blobs of `HEAD` whose file is there in the working tree (the walk reads those): by id.
fn head_blobs_in_worktree(repo: &Path) -> Result<std::collections::HashSet<String>, String> {
    if lines(repo, &["rev-parse", "--verify", "--quiet", "HEAD^{tree}"]).is_err() {
        return Ok(Default::default()); // no commit yet
    }
    let mut out = std::collections::HashSet::new();
    // `<mode> <type> <id>\t<path>`: the oldest gits' format (no `--format`).
    for l in lines(repo, &["ls-tree", "-r", "--full-tree", "HEAD"])? {
        let Some((meta, path)) = l.split_once('\t') else { continue };
        let Some(id) = meta.split(' ').nth(2) else { continue };
        // A file deleted from the working tree is read here, as history; one that is there is
        // read by the walk.
        if repo.join(path).symlink_metadata().is_ok_and(|m| m.is_file()) {
            out.insert(id.to_owned());
        }
    }
    Ok(out)
}

/// The history blobs of `repo`: calls `each(path, content, commit_of)` for every blob up to
/// `max` bytes that is reachable from a ref but not in `HEAD` with its file in the working
/// tree, once per path it was committed at; `commit_of()` finds the first commit that added it
/// (only asked for blobs with hits). `each` returns false to stop. Returns the paths of the blobs
/// left out as larger than `max` (never read into memory). The caller checks [`refuse`] first.
pub(super) fn history(
    repo: &Path,
    max: u64,
    mut each: impl FnMut(&str, &[u8], &dyn Fn() -> Option<String>) -> bool,
) -> Result<Vec<String>, String> {
    let head = head_blobs_in_worktree(repo)?;
    let mut paths: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for l in lines(repo, &["rev-list", "--all", "--objects"])? {
        if let Some((sha, path)) = l.split_once(' ')
            && !path.is_empty()
            && !head.contains(sha)
        {
            let at = paths.entry(sha.to_owned()).or_default();
            if at.is_empty() {
                order.push(sha.to_owned());
            }
            if !at.iter().any(|p| p == path) {
                at.push(path.to_owned());
            }
        }
    }
    if order.is_empty() {
        return Ok(Vec::new());
    }
    // Sizes first, so a huge blob is never sent through the pipe, let alone held.
    let mut wanted = Vec::with_capacity(order.len());
    let mut too_large = Vec::new();
    {
        let fmt = "--batch-check=%(objectname) %(objecttype) %(objectsize)";
        let mut check = Batch::start(repo, &["cat-file", fmt], order)?;
        let mut line = String::new();
        while check.line(&mut line)?.is_some() {
            let mut parts = line.split(' ');
            let (Some(sha), Some("blob"), Some(Ok(size))) =
                (parts.next(), parts.next(), parts.next().map(str::parse::<u64>))
            else {
                continue; // a tree, a commit, or "<sha> missing"
            };
            if size > max {
                too_large.extend(paths[sha].iter().cloned());
            } else {
                wanted.push(sha.to_owned());
            }
        }
    }
    let commits = std::cell::OnceCell::new();
    let all_commits = || lines(repo, &["rev-list", "--all", "--reverse"]).unwrap_or_default();
    let mut batch = Batch::start(repo, &["cat-file", "--batch"], wanted.clone())?;
    let mut header = String::new();
    let mut content = Vec::new();
    'blobs: for sha in &wanted {
        if batch.line(&mut header)?.is_none() {
            return Err("git cat-file ended early".to_owned());
        }
        let mut parts = header.split(' ');
        let (Some(got), Some(kind), Some(Ok(size))) = (parts.next(), parts.next(), parts.next().map(str::parse::<u64>))
        else {
            continue; // "<sha> missing"
        };
        if got != sha || kind != "blob" || size > max {
            return Err(format!("git cat-file answered {header:?} for {sha}"));
        }
        content.clear();
        (&mut batch.out).take(size + 1).read_to_end(&mut content).map_err(|e| e.to_string())?;
        content.truncate(size as usize);
        if memchr::memchr(0, &content[..content.len().min(8192)]).is_some() {
            continue;
        }
        let commit = std::cell::OnceCell::new();
        let commit_of = || {
            commit
                .get_or_init(|| {
                    Some(
                        introducing_commit(repo, commits.get_or_init(all_commits), sha)
                            .unwrap_or_else(|| UNKNOWN_COMMIT.to_owned()),
                    )
                })
                .clone()
        };
        for path in &paths[sha] {
            if !each(path, &content, &commit_of) {
                break 'blobs;
            }
        }
    }
    Ok(too_large)
}
