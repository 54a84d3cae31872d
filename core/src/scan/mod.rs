//! The exposure sweep: find inventoried and unknown keys in files on this machine.
//!
//! Why here, offline: a scanner that knows nothing of the inventory reports "a token"; one that
//! uploads hashes leaks that the token exists. Keyward holds the inventory, so it can say "this is
//! your `ci-deploy` key, in `~/projects/app/.env` line 3" without anything leaving the machine.
//!
//! The walk is parallel (the `ignore` crate, the same walker ripgrep uses) but follows no
//! `.gitignore` — ignored files such as `.env` are exactly where keys sit — and no symlink out of
//! the roots. Each file is read whole into a reused buffer (files over the size limit and files
//! with a NUL byte in their first 8 KiB are skipped and counted), then matched in two passes: the
//! formats of [`detect`] and the held secrets of [`index`]. Hits carry a redacted excerpt; the
//! secret itself never leaves this module except as a keyed fingerprint.

pub mod detect;
mod git;
pub mod index;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{WalkBuilder, WalkState};

pub use detect::{Confidence, Detection, Detector};
pub use index::{Evidence, Fingerprint, Index, Target};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files and folders to scan.
    pub roots: Vec<PathBuf>,
    /// `.gitignore`-style patterns of paths to leave out.
    pub excludes: Vec<String>,
    /// Folders never entered (the Keyward home itself).
    pub skip_dirs: Vec<PathBuf>,
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Also scan every blob in the history of git repositories found under the roots.
    pub git_history: bool,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Files the caller wants to know were read (those of the exposures it holds):
    /// [`Summary::read`] and [`Summary::read_history`] say which of them this scan read, so
    /// only those can be said to no longer hold a key.
    pub watch: std::collections::HashSet<PathBuf>,
}

/// Files above this size are skipped unless the caller says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;
/// Deeper folders are not entered: a hostile tree cannot exhaust file handles.
pub const MAX_DEPTH: usize = 128;

impl Options {
    /// Scans `roots` with the defaults.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self {
            roots,
            excludes: Vec::new(),
            skip_dirs: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            git_history: false,
            threads: 0,
            watch: Default::default(),
        }
    }
}

/// One key found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The file (for history hits: the repository joined with the path in the commit).
    pub path: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// The commit that introduced it, for hits in git history.
    pub revision: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Kind of credential.
    pub kind: String,
    /// Whether the token is a secret (not an id).
    pub secret: bool,
    /// How sure it is that the token is a key (a secret Keyward holds is sure).
    pub confidence: Confidence,
    /// The token's keyed fingerprint (see [`Index::fingerprint`]).
    pub fingerprint: Fingerprint,
    /// The inventoried key or credential it is, and how sure that is.
    pub inventory: Option<(Target, Evidence)>,
    /// The token, redacted: its format prefix and last characters at most.
    pub label: String,
    /// The line around it, with every key on it redacted.
    pub excerpt: String,
}

/// Counters while a scan runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export, rename = "ScanProgress"))]
pub struct Progress {
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Hits so far.
    pub hits: u64,
}

/// What a finished scan did besides finding hits.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Final counters.
    pub progress: Progress,
    /// Files skipped as binary.
    pub binary: u64,
    /// Files skipped as larger than the limit.
    pub too_large: u64,
    /// Symlinks not followed because they lead out of the roots.
    pub symlinks_out: u64,
    /// Things that are not regular files (FIFOs, sockets, devices), skipped.
    pub special: u64,
    /// Roots that do not exist.
    pub missing_roots: Vec<PathBuf>,
    /// Files or folders that could not be read, and why (the first 100).
    pub errors: Vec<(PathBuf, String)>,
    /// How many errors in all.
    pub error_count: u64,
    /// Git repositories whose history was scanned.
    pub repositories: Vec<PathBuf>,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether the scan was cancelled before it finished.
    pub cancelled: bool,
    /// The watched files ([`Options::watch`]) this scan read whole in the working tree.
    pub read: std::collections::HashSet<PathBuf>,
    /// The watched paths of which this scan read every blob in a repository's history.
    pub read_history: std::collections::HashSet<PathBuf>,
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    hits: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
    symlinks_out: AtomicU64,
    special: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    fn progress(&self) -> Progress {
        Progress {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
        }
    }
}

/// Scans `options.roots`; `progress` is called about five times a second and once at the end.
/// Setting `cancel` stops the walk early (the hits so far are returned, marked cancelled).
pub fn scan(
    options: &Options,
    detector: &Detector,
    index: &Index,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> (Vec<Hit>, Summary) {
    let started = Instant::now();
    let mut summary = Summary::default();
    let roots: Vec<PathBuf> = options
        .roots
        .iter()
        .filter(|r| {
            let exists = r.symlink_metadata().is_ok();
            if !exists {
                summary.missing_roots.push((*r).clone());
            }
            exists
        })
        .cloned()
        .collect();
    let counters = Counters::default();
    let hits = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let repos = Mutex::new(Vec::new());
    let read = Mutex::new(std::collections::HashSet::new());
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let counters_ref = &counters;
    std::thread::scope(|s| {
        s.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                finished.recv_timeout(Duration::from_millis(200))
            {
                progress(counters_ref.progress());
            }
        });
        if !roots.is_empty() {
            walk(options, &roots, detector, index, cancel, &counters, &hits, &errors, &repos, &read);
        }
        if options.git_history {
            let mut repos = repos.lock().expect("repos").clone();
            repos.sort();
            repos.dedup();
            for repo in repos {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(why) = git::refuse(&repo) {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    keep_error(&errors, repo.clone(), why);
                    continue;
                }
                let mut found = Vec::new();
                let mut history_read = Vec::new();
                let mut scratch = Scratch::default();
                // The user's excludes apply to paths in history as they do in the working tree.
                let excludes = excludes_for(std::slice::from_ref(&repo), &options.excludes);
                let r = git::history(&repo, options.max_file_size, |path, blob, commit_of| {
                    let full = repo.join(path);
                    if excludes.iter().any(|(_, gi)| gi.matched_path_or_any_parents(&full, false).is_ignore()) {
                        return !cancel.load(Ordering::Relaxed);
                    }
                    counters.files.fetch_add(1, Ordering::Relaxed);
                    counters.bytes.fetch_add(blob.len() as u64, Ordering::Relaxed);
                    let before = found.len();
                    scan_buffer(blob, &full, detector, index, &mut scratch, &mut found);
                    if options.watch.contains(&full) {
                        history_read.push(full.clone());
                    }
                    if found.len() > before {
                        let commit = commit_of();
                        for h in &mut found[before..] {
                            h.revision = commit.clone();
                        }
                    }
                    counters.hits.fetch_add((found.len() - before) as u64, Ordering::Relaxed);
                    !cancel.load(Ordering::Relaxed)
                });
                match r {
                    // A path is read only when every blob of it was: one too large to read
                    // may still hold the key.
                    Ok(too_large) if !cancel.load(Ordering::Relaxed) => {
                        counters.too_large.fetch_add(too_large.len() as u64, Ordering::Relaxed);
                        let skipped: std::collections::HashSet<PathBuf> =
                            too_large.iter().map(|p| repo.join(p)).collect();
                        summary.read_history.extend(history_read.into_iter().filter(|p| !skipped.contains(p)));
                    }
                    Ok(too_large) => {
                        counters.too_large.fetch_add(too_large.len() as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        keep_error(&errors, repo.clone(), e);
                    }
                }
                hits.lock().expect("hits").extend(found);
                summary.repositories.push(repo);
            }
        }
        let _ = done.send(());
    });
    let mut hits = hits.into_inner().expect("hits");
    hits.sort_by(|a, b| (&a.path, a.line, &a.revision).cmp(&(&b.path, b.line, &b.revision)));
    summary.progress = counters.progress();
    progress(summary.progress);
    summary.binary = counters.binary.into_inner();
    summary.too_large = counters.too_large.into_inner();
    summary.symlinks_out = counters.symlinks_out.into_inner();
    summary.special = counters.special.into_inner();
    summary.error_count = counters.errors.into_inner();
    summary.errors = errors.into_inner().expect("errors");
    summary.errors.sort();
    summary.read = read.into_inner().expect("read");
    summary.cancelled = cancel.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    (hits, summary)
}

fn excludes_for(roots: &[PathBuf], patterns: &[String]) -> Vec<(PathBuf, Gitignore)> {
    roots
        .iter()
        .map(|root| {
            let base = if root.is_dir() { root.clone() } else { root.parent().unwrap_or(root).to_owned() };
            let mut b = GitignoreBuilder::new(&base);
            b.add_line(None, ".git/").expect("a valid pattern");
            for p in patterns {
                // A bad pattern was refused when the user gave it (see `check_excludes`).
                let _ = b.add_line(None, p);
            }
            (base, b.build().unwrap_or_else(|_| Gitignore::empty()))
        })
        .collect()
}

/// Refuses a pattern the gitignore syntax cannot read, naming it.
pub fn check_excludes(patterns: &[String]) -> Result<(), String> {
    let mut b = GitignoreBuilder::new("/");
    for p in patterns {
        // The gitignore reader takes an unclosed `[` as a class that never matches: the user
        // would think something excluded that is scanned, so it is refused here.
        if unclosed_class(p) {
            return Err(format!(
                "exclude pattern {p:?}: unclosed character class (a `[` without `]`; `\\[` for a literal one)"
            ));
        }
        b.add_line(None, p).map_err(|e| format!("exclude pattern {p:?}: {e}"))?;
    }
    b.build().map(|_| ()).map_err(|e| e.to_string())
}

/// Whether `pattern` opens a `[` class it never closes (a backslash escapes the next byte).
fn unclosed_class(pattern: &str) -> bool {
    let mut bytes = pattern.bytes();
    let mut open = false;
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'[' if !open => open = true,
            b']' if open => open = false,
            _ => {}
        }
    }
    open
}

#[allow(clippy::too_many_arguments)]
fn walk(
    options: &Options,
    roots: &[PathBuf],
    detector: &Detector,
    index: &Index,
    cancel: &AtomicBool,
    counters: &Counters,
    hits: &Mutex<Vec<Hit>>,
    errors: &Mutex<Vec<(PathBuf, String)>>,
    repos: &Mutex<Vec<PathBuf>>,
    read: &Mutex<std::collections::HashSet<PathBuf>>,
) {
    let canonical_roots: Arc<Vec<PathBuf>> =
        Arc::new(roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect());
    let excludes = Arc::new(excludes_for(roots, &options.excludes));
    let skip_dirs: Arc<Vec<PathBuf>> =
        Arc::new(options.skip_dirs.iter().filter_map(|d| std::fs::canonicalize(d).ok()).collect());
    let symlinks_out = Arc::new(AtomicU64::new(0));
    let git_dirs = Arc::new(Mutex::new(Vec::new()));
    let mut builder = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        builder.add(r);
    }
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        options.threads
    };
    {
        let (canonical_roots, excludes, skip_dirs, symlinks_out, git_dirs) =
            (canonical_roots.clone(), excludes.clone(), skip_dirs.clone(), symlinks_out.clone(), git_dirs.clone());
        let want_git = options.git_history;
        builder
            .standard_filters(false)
            .hidden(false)
            .follow_links(true)
            .max_depth(Some(MAX_DEPTH))
            .threads(threads)
            .filter_entry(move |e| {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if is_dir && e.file_name() == ".git" {
                    if want_git && let Some(parent) = e.path().parent() {
                        git_dirs.lock().expect("git dirs").push(parent.to_owned());
                    }
                    return false;
                }
                if e.path_is_symlink() {
                    let inside = std::fs::canonicalize(e.path())
                        .is_ok_and(|real| canonical_roots.iter().any(|r| real.starts_with(r)));
                    if !inside {
                        symlinks_out.fetch_add(1, Ordering::Relaxed);
                        return false;
                    }
                }
                if is_dir
                    && !skip_dirs.is_empty()
                    && let Ok(real) = std::fs::canonicalize(e.path())
                    && skip_dirs.iter().any(|d| real.starts_with(d))
                {
                    return false;
                }
                let path = e.path();
                !excludes.iter().any(|(base, gi)| {
                    path.starts_with(base) && gi.matched_path_or_any_parents(path, is_dir).is_ignore()
                })
            });
    }
    let max = options.max_file_size;
    builder.build_parallel().run(|| {
        let mut scratch = Scratch::default();
        let mut local = Flush { hits: Vec::new(), into: hits };
        Box::new(move |entry| {
            let local = &mut local.hits;
            if cancel.load(Ordering::Relaxed) {
                return WalkState::Quit;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    keep_error(errors, error_path(&e), e.to_string());
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else { return WalkState::Continue };
            if ft.is_dir() {
                return WalkState::Continue;
            }
            if !ft.is_file() {
                counters.special.fetch_add(1, Ordering::Relaxed);
                return WalkState::Continue;
            }
            match read_file(entry.path(), max, &mut scratch.buf) {
                Ok(Content::Text) => {
                    counters.files.fetch_add(1, Ordering::Relaxed);
                    counters.bytes.fetch_add(scratch.buf.len() as u64, Ordering::Relaxed);
                    let buf = std::mem::take(&mut scratch.buf);
                    let before = local.len();
                    scan_buffer(&buf, entry.path(), detector, index, &mut scratch, local);
                    scratch.buf = buf;
                    if !options.watch.is_empty() && options.watch.contains(entry.path()) {
                        read.lock().expect("read").insert(entry.path().to_owned());
                    }
                    counters.hits.fetch_add((local.len() - before) as u64, Ordering::Relaxed);
                    if local.len() > 256 {
                        hits.lock().expect("hits").append(local);
                    }
                }
                Ok(Content::Binary) => {
                    counters.binary.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Content::TooLarge) => {
                    counters.too_large.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Content::NotAFile) => {
                    counters.special.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    keep_error(errors, entry.path().to_owned(), e.to_string());
                }
            }
            WalkState::Continue
        })
    });
    counters.symlinks_out.fetch_add(symlinks_out.load(Ordering::Relaxed), Ordering::Relaxed);
    repos.lock().expect("repos").extend(git_dirs.lock().expect("git dirs").drain(..));
}

/// How many read errors a scan keeps with their paths (all are counted).
const KEPT_ERRORS: usize = 100;

fn keep_error(errors: &Mutex<Vec<(PathBuf, String)>>, path: PathBuf, error: String) {
    let mut errors = errors.lock().expect("errors");
    if errors.len() < KEPT_ERRORS {
        errors.push((path, error));
    }
}

fn error_path(e: &ignore::Error) -> PathBuf {
    match e {
        ignore::Error::WithPath { path, .. } => path.clone(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => PathBuf::new(),
    }
}

/// A walker thread's hits, handed over in batches and when the thread's visitor is dropped.
struct Flush<'a> {
    hits: Vec<Hit>,
    into: &'a Mutex<Vec<Hit>>,
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        if let Ok(mut all) = self.into.lock() {
            all.append(&mut self.hits);
        }
    }
}

/// Per-thread buffers, reused from file to file.
#[derive(Default)]
struct Scratch {
    buf: Vec<u8>,
    found: Vec<Detection>,
    /// Each detection's fingerprint and inventory match, in `found`'s order.
    matched: Vec<(Fingerprint, Option<(Target, Evidence)>)>,
    held: Vec<(usize, usize, Fingerprint)>,
    spans: Vec<Span>,
    /// Connection strings a held password inside them replaced.
    bare: Vec<(usize, usize)>,
}

/// Read outcome of one file.
pub(crate) enum Content {
    Text,
    Binary,
    TooLarge,
    NotAFile,
}

/// Reads `path` whole into `buf` if it is a regular text file of at most `max` bytes, judged
/// on the opened file (never on the path, which may be swapped in between).
pub(crate) fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Content> {
    use std::os::unix::fs::OpenOptionsExt;
    buf.clear();
    // Non-blocking, so a FIFO swapped in after the walk saw a regular file cannot hang the scan.
    let f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Ok(Content::NotAFile);
    }
    if meta.len() > max {
        return Ok(Content::TooLarge);
    }
    buf.reserve(meta.len() as usize + 1);
    f.take(max + 1).read_to_end(buf)?;
    if buf.len() as u64 > max {
        return Ok(Content::TooLarge);
    }
    if memchr::memchr(0, &buf[..buf.len().min(8192)]).is_some() {
        return Ok(Content::Binary);
    }
    Ok(Content::Text)
}

#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    shown_prefix: usize,
    secret: bool,
    /// Shown as `…` alone: a held password that stood in a connection string.
    bare: bool,
}

/// What a scan does with one file's bytes (formats, held secrets, labels, excerpts), without a
/// file: the entry point of the fuzz target and of its regression tests (`fuzz/`).
#[doc(hidden)]
pub fn scan_bytes(buf: &[u8], detector: &Detector, index: &Index) -> Vec<Hit> {
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    scan_buffer(buf, Path::new("input"), detector, index, &mut scratch, &mut out);
    out
}

/// Finds every hit in one buffer and appends it to `out`.
fn scan_buffer(buf: &[u8], path: &Path, detector: &Detector, index: &Index, s: &mut Scratch, out: &mut Vec<Hit>) {
    // A file named for a provider (`datadog.yaml`, `newrelic.yml`) is that provider's context.
    let name = path.file_name().and_then(|n| n.to_str());
    detector.detect_named(buf, name, &mut s.found);
    index.held_in(buf, &mut s.held);
    if s.found.is_empty() && s.held.is_empty() {
        return;
    }
    // Each detection's fingerprint and inventory match, once.
    s.matched.clear();
    for d in &s.found {
        let token = &buf[d.start..d.end];
        let fingerprint = index.fingerprint(token);
        let text = std::str::from_utf8(token).unwrap_or_default();
        let inventory = if let Some(m) = index.match_fingerprint(&fingerprint) {
            Some(m)
        } else if let Some(t) = index.by_id(text) {
            Some((t.clone(), Evidence::Id))
        } else {
            index.by_last4(d.provider, d.kind, text).map(|t| (t.clone(), Evidence::Last4))
        };
        s.matched.push((fingerprint, inventory));
    }
    // A held secret inside a format that matches nothing Keyward holds (`redis://:<held>@…`) is
    // reported as the held secret; otherwise a held secret a format found is that format's hit.
    if !s.held.is_empty() {
        let held = Overlaps::new(s.held.iter().map(|&(a, b, _)| (a, b)));
        let keep: Vec<bool> =
            s.found.iter().zip(&s.matched).map(|(d, (_, inv))| inv.is_some() || !held.any(d.start, d.end)).collect();
        // A password is not shown by its last characters, even when it is a held secret.
        s.bare.clear();
        s.bare.extend(
            s.found
                .iter()
                .zip(&keep)
                .filter(|(d, kept)| {
                    !**kept && (d.kind.ends_with("connection_string") || d.kind == "database_user_password")
                })
                .map(|(d, _)| (d.start, d.end)),
        );
        let mut kept = keep.iter();
        s.found.retain(|_| *kept.next().expect("one flag per detection"));
        let mut kept = keep.iter();
        s.matched.retain(|_| *kept.next().expect("one flag per detection"));
        let found = Overlaps::new(s.found.iter().map(|d| (d.start, d.end)));
        s.held.retain(|&(start, end, _)| !found.any(start, end));
    }
    s.spans.clear();
    s.spans.extend(s.found.iter().map(|d| Span {
        start: d.start,
        end: d.end,
        shown_prefix: d.shown_prefix,
        secret: d.secret,
        bare: false,
    }));
    let bare = Overlaps::new(s.bare.drain(..));
    s.spans.extend(s.held.iter().map(|&(start, end, _)| Span {
        start,
        end,
        shown_prefix: 0,
        secret: true,
        bare: bare.any(start, end),
    }));
    s.spans.sort_unstable_by_key(|sp| (sp.start, sp.end));
    let spans = Overlaps::new(s.spans.iter().map(|sp| (sp.start, sp.end)));
    let mut lines = LineCounter::default();
    for (d, (fingerprint, inventory)) in s.found.iter().zip(s.matched.drain(..)) {
        let token = &buf[d.start..d.end];
        // A token that is a key Keyward holds, or an id it lists, is sure whatever its shape said.
        let confidence = match &inventory {
            Some((_, Evidence::Secret | Evidence::Id)) => Confidence::High,
            _ => d.confidence,
        };
        out.push(Hit {
            path: path.to_owned(),
            line: lines.line_of(buf, d.start),
            revision: None,
            provider: d.provider.to_owned(),
            kind: d.kind.to_owned(),
            secret: d.secret,
            confidence,
            fingerprint,
            inventory,
            label: label(token, d.shown_prefix, d.secret),
            excerpt: excerpt(buf, d.start, &s.spans, &spans),
        });
    }
    let mut lines = LineCounter::default();
    for &(start, end, fp) in &s.held {
        let Some(t) = index.by_fingerprint(&fp) else { continue };
        out.push(Hit {
            path: path.to_owned(),
            line: lines.line_of(buf, start),
            revision: None,
            provider: t.provider.clone(),
            kind: t.kind.clone(),
            secret: true,
            confidence: Confidence::High,
            fingerprint: fp,
            inventory: Some((t.clone(), Evidence::Secret)),
            label: if bare.any(start, end) { "…".to_owned() } else { label(&buf[start..end], 0, true) },
            excerpt: excerpt(buf, start, &s.spans, &spans),
        });
    }
}

/// Ranges sorted by start, asked which of them cross a range: a binary search on the running
/// maximum of their ends, then a walk over the ranges that start before its end. Linear overall
/// where a per-hit scan of every range would be quadratic in the hits of one file.
struct Overlaps {
    ranges: Vec<(usize, usize)>,
    /// `max_end[k]`: the largest end among `ranges[..=k]`.
    max_end: Vec<usize>,
}

impl Overlaps {
    fn new(ranges: impl Iterator<Item = (usize, usize)>) -> Self {
        let mut ranges: Vec<(usize, usize)> = ranges.collect();
        ranges.sort_unstable();
        let mut max_end = Vec::with_capacity(ranges.len());
        let mut m = 0;
        for &(_, e) in &ranges {
            m = m.max(e);
            max_end.push(m);
        }
        Self { ranges, max_end }
    }

    /// Indices of the ranges crossing `from..to`.
    fn crossing(&self, from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
        let first = self.max_end.partition_point(|&e| e <= from);
        (first..self.ranges.len())
            .take_while(move |&k| self.ranges[k].0 < to)
            .filter(move |&k| self.ranges[k].1 > from)
    }

    fn any(&self, from: usize, to: usize) -> bool {
        self.crossing(from, to).next().is_some()
    }
}

/// Line numbers for increasing offsets, counting each newline once.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: u64,
}

impl LineCounter {
    fn line_of(&mut self, buf: &[u8], offset: usize) -> u64 {
        if offset < self.at {
            *self = Self::default();
        }
        self.line += memchr::memchr_iter(b'\n', &buf[self.at..offset]).count() as u64;
        self.at = offset;
        self.line + 1
    }
}

/// The token as it may be shown: its format prefix, and for long secrets their last four
/// characters (what providers themselves show); ids in full.
pub fn label(token: &[u8], shown_prefix: usize, secret: bool) -> String {
    let text = String::from_utf8_lossy(token);
    if !secret {
        return text.into_owned();
    }
    let prefix = String::from_utf8_lossy(&token[..shown_prefix.min(token.len())]);
    let rest = token.len() - shown_prefix.min(token.len());
    // A private key's header and a connection string's `scheme://user:` show nothing of what
    // follows: a password's last characters are not what a provider shows of it.
    if shown_prefix == 0 && rest >= 24
        || shown_prefix > 0 && rest >= 20 && !prefix.starts_with("-----") && !prefix.contains("://")
    {
        format!("{prefix}…{}", String::from_utf8_lossy(&token[token.len() - 4..]))
    } else {
        format!("{prefix}…")
    }
}

const EXCERPT_CONTEXT: usize = 48;

/// The hit's line, at most [`EXCERPT_CONTEXT`] bytes either side of the token, with every span
/// on it replaced by its label.
fn excerpt(buf: &[u8], at: usize, spans: &[Span], crossing: &Overlaps) -> String {
    // The token that starts here (spans are sorted by start and end).
    let k = spans.partition_point(|s| s.start < at);
    let token_end_raw = spans.get(k).filter(|s| s.start == at).map_or(at, |s| s.end);
    // The line's edges, looked for only as far as the excerpt reaches: a line of a million
    // hits is not read once per hit. Past that reach, an edge stands just beyond it.
    let lo = at.saturating_sub(EXCERPT_CONTEXT + 1);
    let line_start = match memchr::memrchr(b'\n', &buf[lo..at]) {
        Some(i) => lo + i + 1,
        None if lo == 0 => 0,
        None => lo - 1,
    };
    let hi = buf.len().min(token_end_raw + EXCERPT_CONTEXT + 1);
    let line_end = memchr::memchr(b'\n', &buf[at..hi]).map_or(hi, |i| at + i);
    let from = line_start.max(at.saturating_sub(EXCERPT_CONTEXT));
    // Extend to the end of the token that starts here, then some context.
    let token_end = token_end_raw.min(line_end);
    let to = line_end.min(token_end + EXCERPT_CONTEXT);
    let mut out = String::new();
    if from > line_start {
        out.push('…');
    }
    let mut i = from;
    // A run of token bytes that the excerpt's edge cuts is someone's secret's first (or last)
    // characters as often as not: never shown.
    let cut_left = from > line_start && index::is_token_byte(buf[from - 1]);
    let cut_right = to < line_end && index::is_token_byte(buf[to]);
    for sp in crossing.crossing(from, to).map(|k| &spans[k]) {
        if sp.start > i {
            push_clean(&mut out, &buf[i..sp.start], cut_left && i == from, false);
        }
        let start = sp.start.max(from);
        if start == sp.start {
            // The whole token is replaced by its label (for a private key: its header).
            let end = sp.end.min(buf.len());
            let shown = if sp.bare { "…".to_owned() } else { label(&buf[sp.start..end], sp.shown_prefix, sp.secret) };
            let shown_on_line: String = shown.lines().next().unwrap_or_default().to_owned();
            out.push_str(&shown_on_line);
        } else {
            out.push('…');
        }
        i = sp.end.max(i);
    }
    if i < to {
        push_clean(&mut out, &buf[i..to], cut_left && i == from, cut_right);
    }
    // More of the line follows (`line_end` may stand in just past the excerpt's reach, and a
    // token may reach past it: ask the bytes).
    let shown_to = i.max(to);
    if shown_to < buf.len() && buf[shown_to] != b'\n' && memchr::memchr(b'\n', &buf[at..shown_to]).is_none() {
        out.push('…');
    }
    mask_credentials(out.trim())
}

/// Name endings whose value is a credential whatever its shape (`password=hunter2`,
/// `"db_pass": "x y"`, `--password x`, `<pwd>x</pwd>`).
const CREDENTIAL_NAMES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "credentials",
    "auth",
];

/// Schemes of an `Authorization` header whose next word is the credential.
const AUTH_SCHEMES: &[&str] = &["basic", "bearer", "token", "digest"];

/// Where a value starting at `from` ends: at its closing quote when it opens with one (so a
/// quoted value of several words is one value), else at a space or a separator.
fn value_span(b: &[u8], from: usize) -> (usize, usize) {
    match b.get(from) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            let end = b[from + 1..].iter().position(|&c| c == q).map_or(b.len(), |p| from + 1 + p);
            (from + 1, end)
        }
        _ => {
            let end = b[from..]
                .iter()
                .position(|&c| {
                    c.is_ascii_whitespace()
                        || matches!(c, b'"' | b'\'' | b'`' | b',' | b';' | b'&' | b'<' | b')' | b'}')
                })
                .map_or(b.len(), |p| from + p);
            (from, end)
        }
    }
}

/// Hides what an excerpt must not keep although no format recognised it: the password of a
/// URL (`https://user:pass@host`), of `curl -u user:pass`, an `Authorization` header's
/// credential, and the value given to a password-like name in any common syntax. A value
/// already redacted (it holds `…`) or a template (`${VAR}`, `$(cmd)`, `{{ var }}`) is left.
fn mask_credentials(text: &str) -> String {
    let b = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut hide: Vec<(usize, usize)> = Vec::new();
    // user:password@ in a URL: the authority ends at a slash, a space or a quote.
    let mut at = 0;
    while let Some(p) = text[at..].find("://") {
        let start = at + p + 3;
        let end = b[start..]
            .iter()
            .position(|&c| c.is_ascii_whitespace() || matches!(c, b'/' | b'"' | b'\'' | b'`' | b'<' | b'>'))
            .map_or(b.len(), |p| start + p);
        if let Some(a) = text[start..end].rfind('@')
            && let Some(c) = text[start..start + a].find(':')
        {
            hide.push((start + c + 1, start + a));
        }
        at = start;
    }
    // curl -u user:password, --user user:password, quoted or not.
    for flag in ["-u ", "--user ", "--user="] {
        let mut at = 0;
        while let Some(p) = text[at..].find(flag) {
            let (start, end) = value_span(b, at + p + flag.len());
            if let Some(c) = text[start..end].find(':') {
                hide.push((start + c + 1, end));
            }
            at = at + p + flag.len();
        }
    }
    // Every word: a credential-like name followed by its value, or an auth scheme.
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
            i += 1;
        }
        let word = &lower[start..i];
        if AUTH_SCHEMES.contains(&word) && b.get(i) == Some(&b' ') && start > 0 && b[..start].ends_with(b" ") {
            let (vs, ve) = value_span(b, i + 1);
            hide.push((vs, ve));
            continue;
        }
        if !CREDENTIAL_NAMES.iter().any(|n| word.ends_with(n)) || (start > 0 && b[start - 1] == b'$') {
            continue;
        }
        let flag = word.starts_with("--");
        let xml = start > 0 && b[start - 1] == b'<' && b.get(i) == Some(&b'>');
        let mut j = i;
        while j < b.len() && matches!(b[j], b'"' | b'\'' | b' ') {
            j += 1;
        }
        let value_from = if xml {
            Some(i + 1)
        } else if j < b.len() && matches!(b[j], b'=' | b':') {
            let mut k = j + 1;
            if b.get(k) == Some(&b'>') {
                k += 1; // `=>`
            }
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            Some(k)
        } else if flag && j > i && j < b.len() {
            Some(j)
        } else {
            None
        };
        if let Some(from) = value_from {
            hide.push(value_span(b, from));
        }
    }
    hide.retain(|&(s, e)| {
        e > s && {
            let v = &text[s..e];
            !v.contains('…') && !v.starts_with("${") && !v.starts_with("$(") && !v.starts_with("{{")
        }
    });
    if hide.is_empty() {
        return text.to_owned();
    }
    hide.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    for (s, e) in hide {
        if s < i {
            i = i.max(e);
            continue;
        }
        out.push_str(&text[i..s]);
        out.push('…');
        i = e;
    }
    out.push_str(&text[i.min(text.len())..]);
    out
}

#[cfg(test)]
mod mask_tests {
    use super::mask_credentials;

    #[test]
    fn credentials_of_every_common_shape_are_hidden() {
        let cases = [
            ("curl -u \"admin:hunter2\" https://x", "hunter2"),
            ("DB=postgres://app:S3cr&t;x,y@db/app", "S3cr&t"),
            ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            ("Authorization: Bearer abc.def.ghi", "abc.def"),
            ("password: \"correct horse battery\"", "horse"),
            ("<password>tr0ub4dor</password>", "tr0ub4dor"),
            ("\"password\" => \"perl-secret\"", "perl-secret"),
            ("mysql --password s3kr1t -h db", "s3kr1t"),
            ("DB_PASS=plainpass", "plainpass"),
            ("password=$uperSecret1", "uperSecret1"),
            ("export API_TOKEN='tok with space'", "with space"),
        ];
        for (line, kept) in cases {
            let masked = mask_credentials(line);
            assert!(!masked.contains(kept), "{line:?} kept {kept:?}: {masked:?}");
        }
        for (line, same) in [
            ("password=${DB_PASSWORD}", "password=${DB_PASSWORD}"),
            ("GITHUB_TOKEN=ghp_…Ab0c", "GITHUB_TOKEN=ghp_…Ab0c"),
            ("the passenger count is 3", "the passenger count is 3"),
            ("café: crème — 🍰 token", "café: crème — 🍰 token"),
        ] {
            assert_eq!(mask_credentials(line), same);
        }
    }
}

/// Appends the text between keys, cleaned of control characters; any other long, mixed token
/// (20+ letters and digits: perhaps a secret no format or held hash recognised, or a held secret
/// inside a longer run) is replaced by `…`, so an excerpt never carries one.
/// `cut_left` / `cut_right`: the first / last run continues past the excerpt's edge.
fn push_clean(out: &mut String, bytes: &[u8], cut_left: bool, cut_right: bool) {
    let mut i = 0;
    while i < bytes.len() {
        if index::is_token_byte(bytes[i]) {
            let start = i;
            while i < bytes.len() && index::is_token_byte(bytes[i]) {
                i += 1;
            }
            let run = &bytes[start..i];
            let cut = (cut_left && start == 0) || (cut_right && i == bytes.len());
            if cut || (run.len() >= 20 && run.iter().any(u8::is_ascii_digit) && run.iter().any(u8::is_ascii_alphabetic))
            {
                out.push('…');
            } else {
                out.push_str(std::str::from_utf8(run).expect("ASCII"));
            }
            continue;
        }
        let next = bytes[i..].iter().position(|&b| index::is_token_byte(b)).map_or(bytes.len(), |p| i + p);
        for c in String::from_utf8_lossy(&bytes[i..next]).chars() {
            out.push(if c == '\t' {
                ' '
            } else if c.is_control() {
                '\u{fffd}'
            } else {
                c
            });
        }
        i = next;
    }
}

#[cfg(test)]
mod tests;
