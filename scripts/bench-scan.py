#!/usr/bin/env python3
"""Times Keyward's scan, ripgrep with the same pattern set, and detect-secrets on one generated
corpus, and scores each against the planted keys: recall (planted key lines found), hits off
planted lines (false positives), and hits on decoy lines (hashes, UUIDs, base64, git SHAs).

    scripts/bench-scan.py [--corpus DIR] [--mib 200] [--keys 1000] [--runs 5] [--ds-mib 10]

The corpus is made by scripts/gen-scan-corpus.py if DIR has none. Keyward runs through the
release bench binary (`cargo bench -p keyward-core --bench scan`); ripgrep must be on PATH
(Debian: `apt-get install ripgrep`); detect-secrets is installed from PyPI into a venv under
~/.cache/keyward. detect-secrets reads ~0.2 MiB/s, so it runs on a sub-tree of about --ds-mib
MiB (whole service folders), scored on that sub-tree only. Runs are warm (files in the page
cache); medians are reported.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The same formats as core/src/scan/detect.rs, as line-mode regexes: a context word must be on
# the key's own line (ripgrep cannot look at the parent line).
RG_PATTERNS = [
    r"\b(AKIA|ASIA)[A-Z0-9]{16}\b",
    r"(?i)(aws_secret|secret_access_key|secretaccesskey).*\b[A-Za-z0-9/+]{40}\b",
    r"(?i)(datadog|dd_api_key|dd_app_key|dd_application_key|dd-api-key|dd-application-key).*\b([0-9a-f]{32}|[0-9a-f]{40})\b",
    r"\bdd[ps]at_[A-Za-z0-9_-]{32,64}\b",
    r"\bmdb_sa_(id_[0-9a-f]{24}|sk_[A-Za-z0-9_-]{32,64})\b",
    r"(?i)fastly.*\b[A-Za-z0-9_-]{32}\b",
    r"(?i)(atlas|mongodb).*\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    r"(?i)(atlas|mongodb).*public.{0,30}\b[a-z0-9]{8}\b",
    r"\bNRAK-[A-Z0-9]{27}\b|\bNRII-[A-Za-z0-9_-]{24,40}\b|\b[0-9a-f]{36}NRAL\b",
    r"(?i)(newrelic|new_relic|new-relic|nr_license|nria_license).*\b[0-9a-f]{40}\b",
    r"\blin_api_[A-Za-z0-9]{40}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
    r"\b[sr]k_(live|test)_[A-Za-z0-9]{24,247}\b",
    r"\bsk-(proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}\b|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
    r"\bxox[bpars]-[A-Za-z0-9-]{20,250}\b|\bxapp-[A-Za-z0-9-]{20,250}\b|hooks\.slack\.com/services/[A-Za-z0-9/]{40,80}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_corpus(a):
    if not os.path.exists(os.path.join(a.corpus, "manifest.json")):
        sh([sys.executable, os.path.join(ROOT, "scripts/gen-scan-corpus.py"), "--out", a.corpus, "--mib", str(a.mib), "--keys", str(a.keys)])
    with open(os.path.join(a.corpus, "manifest.json")) as f:
        return json.load(f)


def score(name, hits, manifest, tree, secs, mib, subset=None):
    """hits: set of (relative path, line)."""
    keys = {(k["path"], k["line"]) for k in manifest["keys"] if subset is None or k["path"].split("/")[0] in subset}
    decoys = {(d["path"], d["line"]) for d in manifest["decoys"] if subset is None or d["path"].split("/")[0] in subset}
    found = keys & hits
    off = hits - keys
    on_decoys = hits & decoys
    missed = sorted(keys - hits)
    return {
        "tool": name,
        "seconds": round(secs, 3),
        "mib": round(mib, 1),
        "mib_per_s": round(mib / secs, 1),
        "planted": len(keys),
        "recall_pct": round(100 * len(found) / max(1, len(keys)), 2),
        "hits": len(hits),
        "hits_off_planted_lines": len(off),
        "hits_on_decoys": len(on_decoys),
        "precision_pct": round(100 * len(found) / max(1, len(hits)), 2),
        "missed_examples": [f"{p}:{l}" for p, l in missed[:5]],
    }


def median_run(fn, runs):
    times = []
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def keyward(a, tree, mib):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/keyward/target"))
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    hits_file = os.path.join(a.corpus, "keyward-hits.tsv")
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "keyward-core", "--bench", "scan", "--", tree, str(a.runs), "--hits", hits_file],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    print(out.strip())
    median = [l for l in out.splitlines() if l.startswith("median")][0]
    secs = float(median.split()[1])
    hits = set()
    with open(hits_file) as f:
        for line in f:
            path, ln, _, _ = line.rstrip("\n").split("\t")
            hits.add((os.path.relpath(path, tree), int(ln)))
    return secs, hits


def ripgrep(a, tree):
    cmd = ["rg", "--hidden", "--no-ignore", "--no-heading", "-n", "-o", "--no-messages"]
    for p in RG_PATTERNS:
        cmd += ["-e", p]
    cmd.append(".")

    def run():
        return subprocess.run(cmd, cwd=tree, capture_output=True, text=True).stdout

    secs, out = median_run(run, a.runs)
    hits = set()
    for line in out.splitlines():
        path, ln, _ = line.split(":", 2)
        hits.add((os.path.normpath(path), int(ln)))
    return secs, hits


def detect_secrets(a, tree, manifest):
    venv = os.path.expanduser("~/.cache/keyward/bench-venv")
    ds = os.path.join(venv, "bin", "detect-secrets")
    if not os.path.exists(ds):
        sh([sys.executable, "-m", "venv", venv])
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", "detect-secrets==1.5.0"])
    # Whole service folders until about --ds-mib MiB.
    sizes = {}
    for root, _, files in os.walk(tree):
        top = os.path.relpath(root, tree).split("/")[0]
        for f in files:
            sizes[top] = sizes.get(top, 0) + os.path.getsize(os.path.join(root, f))
    subset, total = [], 0
    for top in sorted(sizes):
        if total >= a.ds_mib * 1024 * 1024:
            break
        subset.append(top)
        total += sizes[top]
    t = time.perf_counter()
    out = subprocess.run([ds, "scan", "--all-files", *subset], cwd=tree, capture_output=True, text=True, check=True).stdout
    secs = time.perf_counter() - t
    hits = set()
    for path, results in json.loads(out)["results"].items():
        for r in results:
            hits.add((os.path.normpath(path), r["line_number"]))
    return secs, hits, set(subset), total / (1024 * 1024)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/keyward-scan-corpus")
    ap.add_argument("--mib", type=float, default=200)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ds-mib", type=float, default=10)
    ap.add_argument("--skip-detect-secrets", action="store_true")
    a = ap.parse_args()
    manifest = ensure_corpus(a)
    tree = os.path.join(a.corpus, "tree")
    mib = manifest["bytes"] / (1024 * 1024)
    print(f"corpus: {manifest['files']} files, {mib:.1f} MiB, {len(manifest['keys'])} planted keys, {len(manifest['decoys'])} decoy lines")
    results = []
    # Warm the page cache once for everyone.
    subprocess.run(["cat"] + [os.path.join(r, f) for r, _, fs in os.walk(tree) for f in fs][:1], capture_output=True)
    subprocess.run(["rg", "--hidden", "--no-ignore", "-c", "zzzzzz", "."], cwd=tree, capture_output=True)
    secs, hits = keyward(a, tree, mib)
    results.append(score("keyward", hits, manifest, tree, secs, mib))
    secs, hits = ripgrep(a, tree)
    results.append(score("ripgrep", hits, manifest, tree, secs, mib))
    if not a.skip_detect_secrets:
        secs, hits, subset, sub_mib = detect_secrets(a, tree, manifest)
        results.append(score(f"detect-secrets ({len(subset)} folders)", hits, manifest, tree, secs, sub_mib, subset))
    print(json.dumps(results, indent=2))
    kw, rg = results[0], results[1]
    print(f"\nkeyward / ripgrep throughput: {kw['mib_per_s'] / rg['mib_per_s']:.2f}x")
    print("| tool | MiB | median s | MiB/s | recall | hits off planted lines | hits on decoys |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tool']} | {r['mib']} | {r['seconds']} | {r['mib_per_s']} | {r['recall_pct']} % | {r['hits_off_planted_lines']} | {r['hits_on_decoys']} |")


if __name__ == "__main__":
    main()
