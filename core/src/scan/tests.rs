use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::*;

const GH: &str = "ghp_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0c";
const LIN: &str = "lin_api_Zz3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0cDe2f";

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(options: &Options, index: &Index) -> (Vec<Hit>, Summary) {
    scan(options, &Detector::new(), index, &|_| {}, &AtomicBool::new(false))
}

fn empty() -> Index {
    Index::new(&[1; 32])
}

fn rel(hits: &[Hit], root: &Path) -> Vec<(String, u64, String)> {
    hits.iter()
        .map(|h| (h.path.strip_prefix(root).unwrap_or(&h.path).display().to_string(), h.line, h.kind.clone()))
        .collect()
}

#[test]
fn finds_keys_with_lines_and_redacted_excerpts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/.env", format!("# app\nGITHUB_TOKEN={GH} other={LIN}\n"));
    let (hits, summary) = run(&Options::new(vec![dir.path().into()]), &empty());
    assert_eq!(
        rel(&hits, dir.path()),
        vec![("app/.env".into(), 2, "personal_access_token".into()), ("app/.env".into(), 2, "api_key".into())]
    );
    assert_eq!(summary.progress.files, 1);
    for h in &hits {
        assert!(!h.excerpt.contains(GH) && !h.excerpt.contains(LIN), "{}", h.excerpt);
        assert!(!h.label.contains(&GH[4..]) && !h.label.contains(&LIN[8..]), "{}", h.label);
        assert!(!format!("{h:?}").contains(GH) && !format!("{h:?}").contains(LIN));
    }
    assert_eq!(hits[0].excerpt, "GITHUB_TOKEN=ghp_…Ab0c other=lin_api_…De2f");
    // A long token no format knows, next to a found key, is not shown either.
    write(dir.path(), "b.txt", format!("x={GH} y=Zq8mUnknownTokenShape0042 z=short\n"));
    let (hits, _) = run(&Options::new(vec![dir.path().join("b.txt")]), &empty());
    assert_eq!(hits[0].excerpt, "x=ghp_…Ab0c y=… z=short");
    assert_eq!(hits[0].label, "ghp_…Ab0c");
}

#[test]
fn inventoried_secrets_are_matched_by_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    // A held secret with no recognisable format: found only because Keyward holds it.
    let plain = "Q29ycmVjdEhvcnNlQmF0dGVyeVN0YXBsZQ";
    write(dir.path(), "notes.txt", format!("token: {plain}\nand {LIN}\n"));
    let mut index = empty();
    let t = |id: &str| Target {
        key_id: Some(id.into()),
        provider: "linear".into(),
        kind: "api_key".into(),
        connector: None,
        label: id.into(),
    };
    index.add_secret(plain, t("held-plain"));
    index.add_secret(LIN, t("held-linear"));
    let (hits, _) = run(&Options::new(vec![dir.path().into()]), &index);
    let mut got: Vec<(u64, Option<String>, &str)> = hits
        .iter()
        .map(|h| {
            (h.line, h.inventory.as_ref().and_then(|i| i.0.key_id.clone()), h.inventory.as_ref().unwrap().1.as_str())
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(1, Some("held-plain".into()), "secret"), (2, Some("held-linear".into()), "secret")]);
    assert!(!hits[0].excerpt.contains(plain));
}

#[test]
fn hostile_files_never_crash_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A 20 MB line with a key at its end.
    let mut long = vec![b'x'; 20 * 1024 * 1024];
    long.extend_from_slice(format!(" {GH}").as_bytes());
    write(root, "long.txt", long);
    // Invalid UTF-8 around a key.
    let mut bad = vec![0xff, 0xfe, 0xc3, b'\n'];
    bad.extend_from_slice(format!("\u{1b}[31m {LIN}").as_bytes());
    bad.extend_from_slice(b"\xff\n");
    write(root, "bad.txt", bad);
    // A binary file (NUL early) with a key is skipped.
    write(root, "bin.dat", [b"\0\0\0".as_slice(), GH.as_bytes()].concat());
    // A FIFO nobody writes to.
    let fifo = root.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // A tree deeper than the walk goes.
    let mut deep = root.join("deep");
    for i in 0..(MAX_DEPTH + 20) {
        deep = deep.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("k.txt"), GH).unwrap();
    // A file over the size limit.
    write(root, "huge.log", format!("{GH}\n{}", "y".repeat(2 * 1024 * 1024)));
    let mut options = Options::new(vec![root.into()]);
    options.max_file_size = 1024 * 1024 + 1024;
    let (hits, summary) = {
        // The long line needs a larger limit: scan it separately below.
        run(&options, &empty())
    };
    let found = rel(&hits, root);
    assert!(found.contains(&("bad.txt".into(), 2, "api_key".into())), "{found:?}");
    assert!(
        !found.iter().any(|f| f.0.starts_with("bin") || f.0.starts_with("huge") || f.0.starts_with("deep")),
        "{found:?}"
    );
    assert_eq!(summary.binary, 1);
    assert_eq!(summary.too_large, 2, "long.txt and huge.log");
    assert_eq!(summary.special, 1, "the FIFO");
    options.max_file_size = DEFAULT_MAX_FILE_SIZE;
    let (hits, _) = run(&options, &empty());
    assert!(rel(&hits, root).contains(&("long.txt".into(), 1, "personal_access_token".into())));
    let long_hit = hits.iter().find(|h| h.path.ends_with("long.txt")).unwrap();
    assert!(long_hit.excerpt.len() < 200, "the excerpt is bounded: {}", long_hit.excerpt.len());
}

#[test]
fn unreadable_files_are_reported_not_fatal() {
    if unsafe { libc::geteuid() } == 0 {
        // root reads anything; the error path is then exercised by a dangling root below.
        let (_, summary) = run(&Options::new(vec!["/nonexistent/keyward".into()]), &empty());
        assert_eq!(summary.missing_roots.len(), 1);
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.txt", GH);
    write(dir.path(), "ok.txt", LIN);
    std::fs::set_permissions(dir.path().join("secret.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let (hits, summary) = run(&Options::new(vec![dir.path().into()]), &empty());
    assert_eq!(hits.len(), 1);
    assert_eq!(summary.error_count, 1);
}

#[test]
fn symlinks_out_of_the_roots_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret/.env", GH);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "inner/key.txt", LIN);
    std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret/.env"), dir.path().join("escape.env")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("inner"), dir.path().join("alias")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("inner/loop")).unwrap();
    let (hits, summary) = run(&Options::new(vec![dir.path().into()]), &empty());
    let found = rel(&hits, dir.path());
    assert!(found.iter().all(|f| f.2 == "api_key"), "{found:?}");
    assert!(found.contains(&("inner/key.txt".into(), 1, "api_key".into())));
    assert_eq!(summary.symlinks_out, 2);
}

#[test]
fn excludes_and_skipped_dirs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/.env", GH);
    write(dir.path(), "node_modules/x/k.js", GH);
    write(dir.path(), "b/test.fixture", GH);
    write(dir.path(), "home/vault.log", GH);
    write(dir.path(), ".git/config", GH);
    let mut o = Options::new(vec![dir.path().into()]);
    o.excludes = vec!["node_modules/".into(), "*.fixture".into()];
    o.skip_dirs = vec![dir.path().join("home")];
    let (hits, _) = run(&o, &empty());
    assert_eq!(rel(&hits, dir.path()), vec![("a/.env".into(), 1, "personal_access_token".into())]);
    assert!(check_excludes(&["{a,b".into()]).is_err());
}

#[test]
fn git_history_finds_removed_keys_with_their_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let s = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
        String::from_utf8(s.stdout).unwrap()
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("config.py"), format!("TOKEN = '{GH}'\n")).unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "add"]);
    let added = git(&["rev-parse", "HEAD"]).trim().to_owned();
    std::fs::write(repo.join("config.py"), "TOKEN = os.environ['TOKEN']\n").unwrap();
    git(&["commit", "-qam", "remove"]);
    let mut o = Options::new(vec![dir.path().into()]);
    let (hits, _) = run(&o, &empty());
    assert!(hits.is_empty(), "the working tree is clean");
    o.git_history = true;
    let (hits, summary) = run(&o, &empty());
    assert_eq!(summary.repositories, vec![repo.clone()]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, repo.join("config.py"));
    assert_eq!(hits[0].line, 1);
    assert_eq!(hits[0].revision.as_deref(), Some(added.as_str()));
    // Excludes apply to history too.
    o.excludes = vec!["*.py".into()];
    assert!(run(&o, &empty()).0.is_empty());
}

#[test]
fn cancel_stops_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        write(dir.path(), &format!("f{i}.txt"), GH);
    }
    let (_, summary) =
        scan(&Options::new(vec![dir.path().into()]), &Detector::new(), &empty(), &|_| {}, &AtomicBool::new(true));
    assert!(summary.cancelled);
    assert_eq!(summary.progress.files, 0);
}

/// Runs git in `repo` with a fixed identity, for building test repositories.
fn git_in(repo: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write as _;
    let mut c = std::process::Command::new("git");
    c.args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    let s = child.wait_with_output().unwrap();
    assert!(s.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&s.stderr));
    String::from_utf8(s.stdout).unwrap()
}

/// A repository's own configuration is the attacker's: every setting that makes git run a
/// program points at a script that records that it ran (and with which environment), and the tip
/// commit carries a signature so `log.showSignature` would call `gpg.program`.
#[test]
fn a_hostile_repository_runs_nothing_during_a_history_scan() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let script = dir.path().join("evil.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$0 $*\" >> '{m}'\nenv >> '{m}'\nexit 1\n", m = marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let evil = script.display().to_string();

    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git_in(&repo, &["init", "-q"], None);
    std::fs::write(repo.join("config.py"), format!("TOKEN = '{GH}'\n")).unwrap();
    std::fs::write(repo.join(".gitattributes"), "* diff=evil filter=evil\n").unwrap();
    git_in(&repo, &["add", "."], None);
    git_in(&repo, &["commit", "-qm", "add"], None);
    std::fs::write(repo.join("config.py"), "TOKEN = os.environ['TOKEN']\n").unwrap();
    git_in(&repo, &["commit", "-qam", "remove"], None);
    // Re-sign the tip with a (fake) signature header, as a signed commit carries one.
    let tip = git_in(&repo, &["cat-file", "commit", "HEAD"], None);
    let (head, message) = tip.split_once("\n\n").unwrap();
    let signed = format!(
        "{head}\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\n{message}"
    );
    let signed = git_in(&repo, &["hash-object", "-t", "commit", "-w", "--stdin"], Some(signed.as_bytes()));
    git_in(&repo, &["update-ref", "refs/heads/main", signed.trim()], None);
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for hook in ["post-checkout", "pre-commit", "post-index-change", "reference-transaction", "pre-auto-gc"] {
        std::fs::copy(&script, hooks.join(hook)).unwrap();
    }
    for (key, value) in [
        ("log.showSignature", "true"),
        ("gpg.program", evil.as_str()),
        ("gpg.ssh.program", evil.as_str()),
        ("gpg.x509.program", evil.as_str()),
        ("core.fsmonitor", evil.as_str()),
        ("core.pager", evil.as_str()),
        ("pager.log", evil.as_str()),
        ("core.sshCommand", evil.as_str()),
        ("core.hooksPath", hooks.to_str().unwrap()),
        ("core.alternateRefsCommand", evil.as_str()),
        ("diff.external", evil.as_str()),
        ("diff.evil.textconv", evil.as_str()),
        ("diff.evil.command", evil.as_str()),
        ("filter.evil.clean", evil.as_str()),
        ("filter.evil.smudge", evil.as_str()),
        ("filter.evil.process", evil.as_str()),
        ("credential.helper", &format!("!{evil}")),
        ("alias.log", &format!("!{evil}")),
    ] {
        git_in(&repo, &["config", key, value], None);
    }
    let added = git_in(&repo, &["rev-list", "--all", "--reverse"], None).lines().next().unwrap().to_owned();

    // A partial clone whose promisor remote is a program: a missing object would be fetched
    // through it.
    let lazy = dir.path().join("lazy");
    std::fs::create_dir_all(&lazy).unwrap();
    git_in(&lazy, &["init", "-q"], None);
    let missing = "1111111111111111111111111111111111111111";
    let tree = git_in(&lazy, &["mktree", "--missing"], Some(format!("100644 blob {missing}\tgone.txt\n").as_bytes()));
    let commit = git_in(&lazy, &["commit-tree", tree.trim(), "-m", "lazy"], None);
    git_in(&lazy, &["update-ref", "refs/heads/main", commit.trim()], None);
    for (key, value) in [
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", &format!("ext::{evil} %S")),
        ("remote.origin.promisor", "true"),
        ("remote.origin.uploadpack", evil.as_str()),
        ("protocol.ext.allow", "always"),
        ("protocol.allow", "always"),
    ] {
        git_in(&lazy, &["config", key, value], None);
    }

    let mut o = Options::new(vec![dir.path().into()]);
    o.git_history = true;
    let (hits, summary) = run(&o, &empty());
    let ran = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(ran.is_empty(), "the scan ran the repository's program:\n{ran}");
    // The scan still did its work on the hostile repository.
    assert!(summary.repositories.contains(&repo), "{summary:?}");
    let history: Vec<_> = hits.iter().filter(|h| h.revision.is_some()).collect();
    assert_eq!(history.len(), 1, "{hits:?}");
    assert_eq!(history[0].revision.as_deref(), Some(added.as_str()));
}

/// A repository owned by someone else is not read at all (its config could name programs the
/// user never chose); the scan says which and why.
#[test]
fn a_repository_of_another_user_is_skipped_and_reported() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to give a repository to another user (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("theirs");
    std::fs::create_dir_all(&repo).unwrap();
    git_in(&repo, &["init", "-q"], None);
    std::fs::write(repo.join("config.py"), format!("TOKEN = '{GH}'\n")).unwrap();
    git_in(&repo, &["add", "."], None);
    git_in(&repo, &["commit", "-qm", "add"], None);
    git_in(&repo, &["rm", "-q", "config.py"], None);
    git_in(&repo, &["commit", "-qm", "remove"], None);
    let status = std::process::Command::new("chown").args(["-R", "65534:65534"]).arg(&repo).status().unwrap();
    assert!(status.success());
    let mut o = Options::new(vec![dir.path().into()]);
    o.git_history = true;
    let (hits, summary) = run(&o, &empty());
    assert!(hits.is_empty(), "{hits:?}");
    assert!(summary.repositories.is_empty(), "{summary:?}");
    let (path, why) = summary.errors.iter().find(|(p, _)| p == &repo).expect("the skipped repository is reported");
    assert_eq!(path, &repo);
    assert!(why.contains("owned by"), "{why}");
}

/// An excerpt keeps no credential of any shape: URL passwords, `curl -u`, password-like
/// assignments, and the visible part of a token cut by the excerpt's edge.
#[test]
fn excerpts_hide_passwords_and_tokens_cut_at_their_edges() {
    let dir = tempfile::tempdir().unwrap();
    let tail = "Zq7Xw9Yv8Ut6Sr5Qp4On3Ml2Kj1Ih0Gf9Ed8Cb7Az6Yx5Wv4Ut3Sr2Qp1On0M"; // 62, mixed
    let lines = [
        format!("curl -u admin:hunter2 -H 'Authorization: token {GH}'"),
        format!("DB=postgres://app:s3cr3tpw@db/app GH={GH}"),
        format!("password = \"correct-horse\" token={GH}"),
        format!("{{\"db_password\": \"Tr0ub4dor\", \"gh\": \"{GH}\"}}"),
        format!("{tail}{}{GH}", " ".repeat(40)),
        format!("{GH}{}{tail}", " ".repeat(40)),
    ];
    write(dir.path(), "notes.txt", lines.join("\n"));
    let (hits, _) = run(&Options::new(vec![dir.path().into()]), &empty());
    // Every token, and the database URL's password as a connection string.
    assert_eq!(hits.len(), lines.len() + 1, "{hits:?}");
    assert!(hits.iter().any(|h| h.kind == "connection_string" && h.excerpt == "DB=postgres://app:…@db/app GH=ghp_…Ab0c"));
    for h in &hits {
        for kept in ["hunter2", "s3cr3tpw", "correct-horse", "Tr0ub4dor", &tail[54..], &tail[..8]] {
            assert!(!h.excerpt.contains(kept), "{kept:?} in {:?}", h.excerpt);
        }
        assert!(h.excerpt.contains("ghp_…Ab0c"), "{}", h.excerpt);
    }
    assert!(hits[0].excerpt.contains("-u admin:…"), "{}", hits[0].excerpt);
    assert!(hits[1].excerpt.contains("postgres://app:…@db"), "{}", hits[1].excerpt);
}

#[test]
fn an_exclude_the_gitignore_syntax_cannot_read_is_refused() {
    for bad in ["[invalid", "a/[b", "**/x[", "[a]/[b"] {
        let e = check_excludes(&[bad.to_owned()]);
        assert!(e.is_err(), "{bad:?} was accepted");
    }
    assert!(
        check_excludes(&[
            "*.log".into(),
            "node_modules/".into(),
            "!keep.log".into(),
            "[ab]*.env".into(),
            "\\[x".into()
        ])
        .is_ok()
    );
}

/// Repositories that would make git block or read someone else's objects are refused, not hung
/// on: a FIFO where git opens a file, a `.git` that links elsewhere, alternates.
#[test]
fn repositories_that_would_hang_or_borrow_are_refused_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| {
        let repo = dir.path().join(name);
        std::fs::create_dir_all(&repo).unwrap();
        git_in(&repo, &["init", "-q"], None);
        std::fs::write(repo.join("a.txt"), format!("T={GH}\n")).unwrap();
        git_in(&repo, &["add", "."], None);
        git_in(&repo, &["commit", "-qm", "a"], None);
        repo
    };
    let fifo = make("fifo");
    std::fs::remove_file(fifo.join(".git/packed-refs")).ok();
    let c = std::ffi::CString::new(fifo.join(".git/packed-refs").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let other = make("other");
    let linked = dir.path().join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(other.join(".git"), linked.join(".git")).unwrap();
    let borrowing = make("borrowing");
    std::fs::write(
        borrowing.join(".git/objects/info/alternates"),
        format!("{}\n", other.join(".git/objects").display()),
    )
    .unwrap();
    let mut o = Options::new(vec![fifo.clone(), linked.clone(), borrowing.clone()]);
    o.git_history = true;
    let (_, summary) = run(&o, &empty());
    for (repo, why) in [(&fifo, "is not a regular file"), (&linked, "symbolic link"), (&borrowing, "alternates")] {
        let (_, said) =
            summary.errors.iter().find(|(p, _)| p == repo).unwrap_or_else(|| panic!("{repo:?}: {summary:?}"));
        assert!(said.contains(why), "{said}");
    }
    assert!(summary.repositories.is_empty(), "{:?}", summary.repositories);
}

/// A key committed and then deleted from the working tree, and one only in a stash, are found
/// in history with the commit that holds them.
#[test]
fn keys_deleted_from_the_worktree_or_stashed_are_found_with_their_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git_in(&repo, &["init", "-q"], None);
    std::fs::write(repo.join("committed.env"), format!("T={GH}\n")).unwrap();
    std::fs::write(repo.join("notes.txt"), "x\n").unwrap();
    git_in(&repo, &["add", "."], None);
    git_in(&repo, &["commit", "-qm", "a"], None);
    std::fs::write(repo.join("notes.txt"), format!("L={LIN}\n")).unwrap();
    git_in(&repo, &["stash", "-q"], None);
    std::fs::remove_file(repo.join("committed.env")).unwrap();
    let mut o = Options::new(vec![dir.path().into()]);
    o.git_history = true;
    let (hits, _) = run(&o, &empty());
    let history: Vec<(String, Option<String>)> = hits
        .iter()
        .filter(|h| h.revision.is_some())
        .map(|h| (h.path.file_name().unwrap().to_string_lossy().into_owned(), h.revision.clone()))
        .collect();
    assert!(history.iter().any(|(p, _)| p == "committed.env"), "{history:?}");
    assert!(history.iter().any(|(p, _)| p == "notes.txt"), "{history:?}");
    assert!(
        history.iter().all(|(_, r)| r.as_deref().is_some_and(|r| r.len() == 40)),
        "a commit named for each: {history:?}"
    );
}

/// A held secret is matched whatever its shape: a format with dots (SendGrid) by the format's
/// fingerprint, and a held password inside a connection string as the held secret (not as an
/// unmanaged database URL).
#[test]
fn held_secrets_of_every_shape_are_matched() {
    let dir = tempfile::tempdir().unwrap();
    let sendgrid = "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";
    // Long enough that a held secret's label would show its last four characters.
    let held_password = "Zq9xPw7vUt5sRq3pOn1mLk9jHg";
    write(dir.path(), "app.env", format!("SENDGRID_API_KEY={sendgrid}\nREDIS_URL=redis://:{held_password}@cache:6379/0\n"));
    let mut index = empty();
    let target = |id: &str| Target {
        key_id: Some(id.into()),
        provider: "held".into(),
        kind: "api_key".into(),
        connector: None,
        label: id.into(),
    };
    index.add_secret(sendgrid, target("sg"));
    index.add_secret(held_password, target("redis"));
    let (hits, _) = run(&Options::new(vec![dir.path().into()]), &index);
    let mut held: Vec<(u64, String)> = hits
        .iter()
        .map(|h| (h.line, h.inventory.as_ref().and_then(|(t, _)| t.key_id.clone()).unwrap_or_default()))
        .collect();
    held.sort();
    assert_eq!(held, vec![(1, "sg".into()), (2, "redis".into())], "{hits:?}");
    assert!(hits.iter().all(|h| h.confidence == Confidence::High));
    // A password shows nothing of itself, held or not.
    let redis = hits.iter().find(|h| h.line == 2).unwrap();
    assert_eq!(redis.label, "…");
    assert!(!redis.excerpt.contains("Lk9jHg") && !redis.excerpt.contains("jHg"), "{}", redis.excerpt);
}

/// A line of a hundred thousand keys is read about once per key, not once per key per key
/// (excerpts look for the line's edges only as far as they reach).
#[test]
fn a_line_of_many_keys_stays_linear() {
    let dir = tempfile::tempdir().unwrap();
    let line: String = (0..100_000).map(|k| format!("AKIA{k:016} ")).collect();
    write(dir.path(), "ids.txt", &line);
    let (hits, _) = run(&Options::new(vec![dir.path().into()]), &empty());
    assert_eq!(hits.len(), 100_000);
    assert!(hits[50_000].excerpt.starts_with('…') && hits[50_000].excerpt.ends_with('…'), "{}", hits[50_000].excerpt);
}
