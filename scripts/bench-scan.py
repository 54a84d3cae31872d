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
import collections
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
    r"(?i)twilio.*\b([0-9a-f]{32}|[A-Za-z0-9]{32})\b",
    r"\blin_api_[A-Za-z0-9]{40}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
    r"\b[sr]k_(live|test)_[A-Za-z0-9]{24,}\b|\bwhsec_[A-Za-z0-9]{32,64}\b",
    r"\bsk-(proj|svcacct|admin)-[A-Za-z0-9_-]{40,}\b|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
    r"\bxox[bpars]-[A-Za-z0-9-]{20,}\b|\bxapp-[A-Za-z0-9-]{20,}\b|hooks\.slack\.com/services/[A-Za-z0-9/]{40,80}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    # Issue 16's formats (open-ended where Keyward caps a length: what one would write for rg).
    r"\bAIza[A-Za-z0-9_-]{35}\b|\bGOCSPX-[A-Za-z0-9_-]{28}\b|\bSG\.[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{39,50}\b",
    r"\bnpm_[A-Za-z0-9]{36}\b|\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|\brubygems_[0-9a-f]{48}\b|\bdckr_[po]at_[A-Za-z0-9_-]{27,32}\b",
    r"\bgl(pat|rt)-[A-Za-z0-9_-]{20,}(\.(01\.)?[0-9a-z]{9})?\b|\bgl(ptt|dt|ft|cbt|imt|agent|oas)-[A-Za-z0-9_-]{20,64}\b|\bGR1348941[A-Za-z0-9_-]{20}\b",
    r"\bsk-ant-(api03|admin01)-[A-Za-z0-9_-]{93}AA\b|\bhf_[A-Za-z]{34}\b|\bapi_org_[A-Za-z]{34}\b",
    r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}\b|AccountKey=[A-Za-z0-9+/]{86}==|\bdo[por]_v1_[0-9a-f]{64}\b",
    r"\bdp\.(pt|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}\b|\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b|\bpul-[a-z0-9]{40}\b",
    r"\bglc_[A-Za-z0-9+/]{32,}={0,3}|\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|\bsntryu_[0-9a-f]{64}\b|\bATATT3[A-Za-z0-9_=-]{186}",
    r"\bdapi[0-9a-f]{32}(-[0-9])?\b|\bHRKU-AA[A-Za-z0-9_-]{58}\b|\bsq0(atp-[A-Za-z0-9_-]{22,60}|csp-[A-Za-z0-9_-]{43})\b|\bAGE-SECRET-KEY-1[A-Z0-9]{58}\b",
    r"\bhv[sb]\.[A-Za-z0-9_-]{90,}\b|\b(bkua|sbp)_[a-z0-9]{40}\b|\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}|\bntn_[A-Za-z0-9]{46}\b|\bCFPAT-[A-Za-z0-9_-]{43}\b",
    r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b|\bpnu_[A-Za-z0-9]{36}\b|\br8_[A-Za-z0-9_-]{37}\b|\bgsk_[A-Za-z0-9]{48,52}\b|\bpplx-[A-Za-z0-9]{48}\b",
    r"\bfigd_[A-Za-z0-9_-]{40}\b|\bpscale_(tkn|pw|oauth)_[A-Za-z0-9_-]{32,64}\b|\bshippo_(live|test)_[a-fA-F0-9]{40}\b|\bCLOJARS_[a-z0-9]{60}\b",
    r"\bAKCp[A-Za-z0-9]{69}\b|\bfo1_[A-Za-z0-9_-]{43}\b|\bsgp_[A-Za-z0-9_-]{40,57}\b|\btskey-(api|auth|client)-[A-Za-z0-9-]{20,}\b",
    r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}\b|\bsk\.eyJ[A-Za-z0-9_-]{32,}\.[A-Za-z0-9_-]{20,30}\b|\bv1\.0-[0-9a-f]{24}-[0-9a-f]{146}\b",
    r"\b(mongodb(\+srv)?|postgres(ql)?|mysql|mariadb|rediss?|amqps?)://[^:@/\s]*:[^@/\s]+@",
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_corpus(a):
    if not os.path.exists(os.path.join(a.corpus, "manifest.json")):
        sh([sys.executable, os.path.join(ROOT, "scripts/gen-scan-corpus.py"), "--out", a.corpus, "--mib", str(a.mib), "--keys", str(a.keys)])
    with open(os.path.join(a.corpus, "manifest.json")) as f:
        return json.load(f)


def score(name, hits, manifest, tree, secs, mib, subset=None):
    """hits: a Counter of (relative path, line) -> hits there. A planted line counts as found when
    a hit is on it; every hit beyond the planted keys of its line is a false positive (so a decoy
    on a key's own line counts too)."""
    keep = lambda p: subset is None or p.split("/")[0] in subset
    planted = collections.Counter((k["path"], k["line"]) for k in manifest["keys"] if keep(k["path"]))
    decoy_class = {(d["path"], d["line"]): d["kind"] for d in manifest["decoys"] if keep(d["path"])}
    found = sum(min(n, hits.get(place, 0)) for place, n in planted.items())
    lines_found = sum(1 for place in planted if hits.get(place, 0) > 0)
    false = sum(max(0, n - planted.get(place, 0)) for place, n in hits.items())
    on_decoys = collections.Counter(decoy_class[p] for p in hits if p in decoy_class)
    missed = sorted(p for p in planted if hits.get(p, 0) == 0)
    total = sum(hits.values())
    return {
        "tool": name,
        "seconds": round(secs, 3),
        "mib": round(mib, 1),
        "mib_per_s": round(mib / secs, 1),
        "planted": sum(planted.values()),
        "recall_pct": round(100 * lines_found / max(1, len(planted)), 2),
        "hits": total,
        "false_hits": false,
        "hits_on_decoys": sum(on_decoys.values()),
        "decoy_hits_by_class": dict(on_decoys.most_common()),
        "precision_pct": round(100 * (total - false) / max(1, total), 2),
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
    hits = collections.Counter()
    confidence = collections.Counter()
    with open(hits_file) as f:
        for line in f:
            path, ln, _, _, sure = line.rstrip("\n").split("\t")
            hits[(os.path.relpath(path, tree), int(ln))] += 1
            confidence[sure] += 1
    print(f"keyward hits by confidence: {dict(confidence)}")
    return secs, hits


def ripgrep(a, tree):
    cmd = ["rg", "--hidden", "--no-ignore", "--no-heading", "-n", "-o", "--no-messages"]
    for p in RG_PATTERNS:
        cmd += ["-e", p]
    cmd.append(".")

    def run():
        return subprocess.run(cmd, cwd=tree, capture_output=True, text=True).stdout

    secs, out = median_run(run, a.runs)
    hits = collections.Counter()
    for line in out.splitlines():
        path, ln, _ = line.split(":", 2)
        hits[(os.path.normpath(path), int(ln))] += 1
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
    hits = collections.Counter()
    for path, results in json.loads(out)["results"].items():
        for r in results:
            hits[(os.path.normpath(path), r["line_number"])] += 1
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
    print("| tool | MiB | median s | MiB/s | recall | precision | false hits | of which on decoy lines |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tool']} | {r['mib']} | {r['seconds']} | {r['mib_per_s']} | {r['recall_pct']} % | {r['precision_pct']} % | {r['false_hits']} | {r['hits_on_decoys']} |")


if __name__ == "__main__":
    main()
