#!/usr/bin/env python3
"""Makes a tree of mixed source and text files with planted keys of every format Keyward's scan
detects, and decoys it must not report (hashes, UUIDs, base64 blobs, git SHAs).

    scripts/gen-scan-corpus.py --out /tmp/kw-corpus --mib 200 --keys 1000 [--seed 1]

Writes <out>/tree/... and <out>/manifest.json: every planted key's path (relative to the tree),
line, provider and kind, and every decoy's path and line. Planted keys are made up. Some keys
have their context on a parent line (YAML), as real configs do; decoys are never within eight
lines of a planted key, so a decoy hit is a real false positive. Deterministic for a seed.
"""

import argparse
import json
import os
import random
import string

WORDS = (
    "account amount balance batch buffer cache channel client config context count cursor "
    "data debug default delta device digest domain driver entry error event export field filter "
    "format frame handler header index input item job label layout length limit line list loader "
    "logger mapper message method metric model module name node offset option order output owner "
    "packet page param parser path payload policy pool port prefix queue reader record region "
    "report request result route router schema scope session shard signal size socket source "
    "stage state status stream table target task tenant thread timeout timer token_count topic "
    "total trace update user value vector version window worker writer zone"
).split()

EXTS = [".py", ".js", ".ts", ".go", ".rs", ".java", ".md", ".txt", ".yaml", ".json", ".toml", ".sh", ".log", ".env"]
KEY_EXTS = [".env", ".yaml", ".json", ".py", ".sh", ".toml", ".txt", ".md"]

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
LOWER = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
URL = string.ascii_letters + string.digits + "_-"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet, n):
        """A token with upper, lower and digits (real secrets have all three)."""
        while True:
            t = self.s(alphabet, n)
            if any(c.isupper() for c in t) and any(c.islower() for c in t) and any(c.isdigit() for c in t):
                return t

    def uuid(self):
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"

    def word(self):
        return self.r.choice(WORDS)

    def filler(self, ext):
        w, r = self.word, self.r
        kind = r.random()
        if ext in (".py",):
            opts = [
                f"def {w()}_{w()}({w()}, {w()}={r.randint(0, 999)}):",
                f"    {w()} = {w()}.{w()}({w()}, {r.randint(0, 99)})",
                f"    return {w()}_{w()}",
                f"# {w()} the {w()} before the {w()} {w()}",
                f"import {w()}",
            ]
        elif ext in (".js", ".ts"):
            opts = [
                f"const {w()}{w().title()} = {w()}.{w()}({r.randint(0, 999)});",
                f"export function {w()}({w()}, {w()}) {{",
                f"  return {w()}.map(({w()}) => {w()}.{w()});",
                f"// {w()} {w()} {w()}",
                "}",
            ]
        elif ext in (".yaml",):
            opts = [f"{w()}:", f"  {w()}: {w()}-{r.randint(0, 99)}", f"  {w()}: {r.randint(0, 9999)}", f"# {w()} {w()}"]
        elif ext in (".json",):
            opts = [f'  "{w()}": "{w()} {w()}",', f'  "{w()}": {r.randint(0, 99999)},', f'  "{w()}": [{r.randint(0, 9)}, {r.randint(0, 9)}],']
        elif ext in (".log",):
            opts = [f"2026-11-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z INFO {w()} {w()}={r.randint(0, 9999)} {w()}={w()}"]
        elif ext in (".env", ".sh", ".toml"):
            opts = [f"{w().upper()}_{w().upper()}={w()}", f"# {w()} {w()}", f"{w()} = \"{w()}\"", f"export {w().upper()}={r.randint(0, 9999)}"]
        else:
            opts = [" ".join(w() for _ in range(r.randint(4, 14))).capitalize() + ".", ""]
        if kind < 0.02:
            return "x" * 0  # blank lines
        return r.choice(opts)

    def decoy(self):
        r, s = self.r, self.s
        kind = r.choice(["md5", "sha1", "sha256", "uuid", "base64", "git"])
        if kind == "md5":
            return kind, f"checksum = \"{s(HEX, 32)}\""
        if kind == "sha1":
            return kind, f"sha1: {s(HEX, 40)}"
        if kind == "sha256":
            return kind, f"  \"sha256\": \"{s(HEX, 64)}\","
        if kind == "uuid":
            return kind, f"request_id={self.uuid()}"
        if kind == "base64":
            return kind, f"blob = \"{s(B64, r.randint(40, 200))}==\""
        return kind, f"commit {s(HEX, 40)}"

    def key(self):
        """(lines, [(offset, provider, kind)]) for one planted key snippet."""
        r, s, m = self.r, self.s, self.mixed
        choice = r.randrange(26)
        if choice == 0:
            return [f"aws_access_key_id = AKIA{s(UPPER, 16)}", f"aws_secret_access_key = {m(B64, 40)}"], [
                (0, "aws", "access_key_id"), (1, "aws", "secret_access_key")]
        if choice == 1:
            return ["{", f'  "AccessKeyId": "AKIA{s(UPPER, 16)}",', f'  "SecretAccessKey": "{m(B64, 40)}"', "}"], [
                (1, "aws", "access_key_id"), (2, "aws", "secret_access_key")]
        if choice == 2:
            return [f"DD_API_KEY={s(HEX, 32)}"], [(0, "datadog", "api_key")]
        if choice == 3:
            return ["datadog:", "  site: datadoghq.eu", f"  api_key: {s(HEX, 32)}"], [(2, "datadog", "api_key")]
        if choice == 4:
            return [f'dd_app_key: "{s(HEX, 40)}"'], [(0, "datadog", "application_key")]
        if choice == 5:
            return ["[datadog]", f"api_host = \"https://api.datadoghq.com\"", f'app_key = "{s(HEX, 40)}"'], [(2, "datadog", "application_key")]
        if choice == 6:
            return [f'token = "ddpat_{m(ALNUM, 40)}"'], [(0, "datadog", "personal_access_token")]
        if choice == 7:
            return [f"DD_SAT=ddsat_{m(ALNUM, 40)}"], [(0, "datadog", "service_access_token")]
        if choice == 8:
            return ["mongodb_atlas:", f"  public_key: {s(string.ascii_lowercase, 8)}", f"  private_key: {self.uuid()}"], [
                (1, "mongodb_atlas", "public_key"), (2, "mongodb_atlas", "private_key")]
        if choice == 9:
            return [f"client_id: mdb_sa_id_{s(HEX, 24)}", f"client_secret: mdb_sa_sk_{m(ALNUM, 40)}"], [
                (0, "mongodb_atlas", "service_account_id"), (1, "mongodb_atlas", "service_account_secret")]
        if choice == 10:
            return [f"FASTLY_API_TOKEN={m(URL, 32)}"], [(0, "fastly", "api_token")]
        if choice == 11:
            return ["fastly:", "  service: www", f"  token: {m(URL, 32)}"], [(2, "fastly", "api_token")]
        if choice == 12:
            return [f"NEW_RELIC_API_KEY=NRAK-{s(UPPER, 27)}"], [(0, "newrelic", "user_key")]
        if choice == 13:
            return [f"insert_key: NRII-{m(URL, 32)}"], [(0, "newrelic", "insert_key")]
        if choice == 14:
            return [f"license_key: {s(HEX, 36)}NRAL"], [(0, "newrelic", "license_key")]
        if choice == 15:
            return ["newrelic:", "  app_name: checkout", f"  license_key: {s(HEX, 40)}"], [(2, "newrelic", "license_key")]
        if choice == 16:
            return [f"LINEAR_API_KEY=lin_api_{m(ALNUM, 40)}"], [(0, "linear", "api_key")]
        if choice == 17:
            return [f"GITHUB_TOKEN=ghp_{m(ALNUM, 36)}"], [(0, "github", "personal_access_token")]
        if choice == 18:
            return [f"token: github_pat_{m(ALNUM, 22)}_{m(ALNUM, 59)}"], [(0, "github", "fine_grained_token")]
        if choice == 19:
            return [f"STRIPE_SECRET_KEY=sk_live_{m(ALNUM, 48)}"], [(0, "stripe", "secret_key")]
        if choice == 20:
            return [f"OPENAI_API_KEY=sk-proj-{m(URL, 64)}"], [(0, "openai", "project_key")]
        if choice == 21:
            return [f"openai.api_key = \"sk-{m(ALNUM, 20)}T3BlbkFJ{m(ALNUM, 20)}\""], [(0, "openai", "api_key")]
        if choice == 22:
            return [f"SLACK_BOT_TOKEN=xoxb-{s(string.digits, 12)}-{s(string.digits, 13)}-{m(ALNUM, 24)}"], [(0, "slack", "bot_token")]
        if choice == 23:
            return [f"webhook: https://hooks.slack.com/services/T{s(UPPER, 10)}/B{s(UPPER, 10)}/{m(ALNUM, 24)}"], [(0, "slack", "webhook_url")]
        if choice == 24:
            body = [m(B64, 64) for _ in range(r.randint(6, 20))]
            return ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"], [(0, "private_key", "private_key")]
        body = [m(B64, 70) for _ in range(r.randint(4, 10))]
        return ["-----BEGIN OPENSSH PRIVATE KEY-----", *body, "-----END OPENSSH PRIVATE KEY-----"], [(0, "private_key", "private_key")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mib", type=float, default=200)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    tree = os.path.join(a.out, "tree")
    budget = int(a.mib * 1024 * 1024)
    # File sizes: mostly small sources, some large logs and data files.
    files = []
    total = 0
    i = 0
    while total < budget:
        ext = r.choice(EXTS)
        size = int(min(4 * 1024 * 1024, max(300, r.lognormvariate(9.5, 1.3))))
        if ext == ".env":
            size = min(size, 4000)
        svc = f"svc{i % 40:02d}"
        sub = r.choice(["src", "src/core", "src/api", "config", "deploy", "docs", "scripts", "test/fixtures"])
        name = (".env" + r.choice(["", ".local", ".production"])) if ext == ".env" else f"{g.word()}_{i}{ext}"
        files.append((os.path.join(svc, sub, name), ext, size))
        total += size
        i += 1
    # Planted keys go to config-like files, spread over the tree.
    key_files = [k for k, f in enumerate(files) if f[1] in KEY_EXTS]
    plants = {}
    for _ in range(a.keys):
        plants.setdefault(r.choice(key_files), []).append(g.key())
    manifest = {"keys": [], "decoys": [], "bytes": 0, "files": 0}
    seen_paths = set()
    for k, (rel, ext, size) in enumerate(files):
        if rel in seen_paths:
            continue
        seen_paths.add(rel)
        lines = []  # (text, tag)
        n = 0
        while n < size:
            if r.random() < 0.03:
                kind, text = g.decoy()
                lines.append((text, ("decoy", kind)))
            else:
                text = g.filler(ext)
                lines.append((text, None))
            n += len(lines[-1][0]) + 1
        for snippet, records in plants.get(k, []):
            at = r.randint(0, len(lines))
            # No decoy within eight lines of a planted key.
            for j in range(max(0, at - 8), min(len(lines), at + 8)):
                if lines[j][1] is not None and lines[j][1][0] == "decoy":
                    lines[j] = (g.filler(ext), None)
            tagged = [(t, None) for t in snippet]
            for off, provider, kind in records:
                tagged[off] = (tagged[off][0], ("key", provider, kind))
            lines[at:at] = tagged
        # Keys inserted later must not sit near decoys inserted earlier: one more pass.
        key_lines = [j for j, (_, t) in enumerate(lines) if t and t[0] == "key"]
        for j in key_lines:
            for d in range(max(0, j - 8), min(len(lines), j + 9)):
                if lines[d][1] and lines[d][1][0] == "decoy":
                    lines[d] = (g.filler(ext), None)
        path = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = "\n".join(t for t, _ in lines) + "\n"
        with open(path, "w") as f:
            f.write(data)
        manifest["bytes"] += len(data.encode())
        manifest["files"] += 1
        for j, (_, tag) in enumerate(lines):
            if tag and tag[0] == "key":
                manifest["keys"].append({"path": rel, "line": j + 1, "provider": tag[1], "kind": tag[2]})
            elif tag and tag[0] == "decoy":
                manifest["decoys"].append({"path": rel, "line": j + 1, "kind": tag[1]})
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print(f"{manifest['files']} files, {manifest['bytes'] / 1048576:.1f} MiB, {len(manifest['keys'])} planted keys, {len(manifest['decoys'])} decoys in {tree}")


if __name__ == "__main__":
    main()
