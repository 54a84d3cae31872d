#!/usr/bin/env python3
"""Makes a tree of mixed source and text files with planted keys of every format Keyward's scan
detects, and decoys it must not report: hashes, UUIDs, base64 blobs and git SHAs spread over the
tree, and — where precision is hard — decoys right next to planted keys: trace and span ids in
logs around a pasted `datadog:` block, commit hashes in changelogs under `# datadog credentials`,
checksums, digests and etags inside a provider's own section, lockfile integrity hashes, UUIDs
without dashes, base64 blobs beside AWS keys.

    scripts/gen-scan-corpus.py --out /tmp/kw-corpus --mib 200 --keys 1000 [--seed 1]

Writes <out>/tree/... and <out>/manifest.json: every planted key's path (relative to the tree),
line, provider and kind, and every decoy's path, line and class (`near_*` classes sit next to a
planted key). Planted keys are made up. Some keys have their context on a parent line (YAML), as
real configs do; the spread decoys are never within eight lines of a planted key, the near ones
always are, on lines of their own. Deterministic for a seed.
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

    def structured_key(self, which):
        """The issue-16 shapes that are more than a prefix: connection strings, a GCP service
        account file, Twilio, and a guess (the provider only elsewhere on a log line)."""
        r, s, m = self.r, self.s, self.mixed
        if which == 0:
            return [f"MONGODB_URI=mongodb+srv://app:{m(ALNUM, 16)}@cluster0.{s(LOWER, 5)}.mongodb.net/prod?retryWrites=true"], [
                (0, "mongodb_atlas", "database_user_password")]
        if which == 1:
            return [f"DATABASE_URL=postgres://billing:{m(ALNUM, 14)}@db.internal:5432/billing"], [(0, "postgres", "connection_string")]
        if which == 2:
            pem = "\\n".join(m(B64, 64) for _ in range(6))
            return ["{", '  "type": "service_account",', f'  "project_id": "acme-{s(LOWER, 6)}",', f'  "private_key_id": "{s(HEX, 40)}",',
                    f'  "private_key": "-----BEGIN PRIVATE KEY-----\\n{pem}\\n-----END PRIVATE KEY-----\\n",',
                    f'  "client_email": "ci@acme-{s(LOWER, 6)}.iam.gserviceaccount.com"', "}"], [(4, "gcp", "service_account_key")]
        if which == 3:
            return [f"TWILIO_ACCOUNT_SID=AC{s(HEX, 32)}", f"TWILIO_AUTH_TOKEN={s(HEX, 32)}"], [(1, "twilio", "auth_token")]
        if which == 4:
            return [f"2026-11-{r.randint(1, 28):02d}T10:00:00Z WARN datadog: api_key={s(HEX, 32)} rejected"], [(0, "datadog", "api_key")]
        if which == 5:
            return ["env:", "  - name: DD_API_KEY", f'    value: "{s(HEX, 32)}"'], [(2, "datadog", "api_key")]
        if which == 6:
            return ['provider "datadog" {', f'  api_key = "{s(HEX, 32)}"', f'  app_key = "{s(HEX, 40)}"', "}"], [
                (1, "datadog", "api_key"), (2, "datadog", "application_key")]
        return [f"curl -H 'Fastly-Key: {m(URL, 32)}' https://api.fastly.com/service"], [(0, "fastly", "api_token")]

    def near_decoys(self, provider):
        """Decoy lines to stand right next to a planted key of `provider`: ids, hashes and blobs
        in the same file and section, each (text, class)."""
        r, s = self.r, self.s
        ts = f"2026-11-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z"
        name = provider.replace("_", " ")
        options = [
            (f"{ts} INFO {name} trace_id={s(HEX, 32)} span_id={s(HEX, 16)}", "near_trace_id"),
            (f"{ts} DEBUG sent to {name} dd.trace_id={s(HEX, 32)} dd.span_id={r.randint(10**17, 10**18)}", "near_trace_id"),
            (f"See commit {s(HEX, 40)} for the {name} change.", "near_commit"),
            (f"* {name}: bump client ({s(HEX, 40)})", "near_commit"),
            (f"# {name} credentials, rotated in {s(HEX, 40)}", "near_commit"),
            (f'  "integrity": "sha512-{self.mixed(B64, 86)}==",', "near_integrity"),
            (f'  "shasum": "{s(HEX, 40)}",', "near_checksum"),
            (f"sha256:{s(HEX, 64)}  {provider}-agent.tar.gz", "near_checksum"),
            (f"request_id={s(HEX, 32)}", "near_uuid_no_dashes"),
            (f"{name} object id {s(HEX, 24)} etag \"{s(HEX, 32)}\"", "near_uuid_no_dashes"),
            (f"signature: {self.mixed(B64, 40)}", "near_base64"),
            (f"x-amz-id-2: {self.mixed(B64, 76)}=", "near_base64"),
        ]
        return [r.choice(options) for _ in range(r.randint(1, 3))]

    def section_decoys(self):
        """Decoy fields inside a provider's YAML section: not key-like names."""
        s = self.s
        return [(f"  checksum: {s(HEX, 32)}", "near_checksum"), (f"  trace_id: {s(HEX, 32)}", "near_trace_id"),
                (f"  image_digest: {s(HEX, 40)}", "near_checksum")]

    def key(self):
        """(lines, [(offset, provider, kind)]) for one planted key snippet."""
        r, s, m = self.r, self.s, self.mixed
        choice = r.randrange(26 + len(PREFIXED_SHAPES) + 8)
        if choice >= 26 + 8:
            name, provider, kind, make = PREFIXED_SHAPES[choice - 26 - 8]
            return [f"{name}={make(self)}"], [(0, provider, kind)]
        if choice >= 26:
            return self.structured_key(choice - 26)
        if choice == 0:
            return [f"aws_access_key_id = AKIA{s(UPPER, 16)}", f"aws_secret_access_key = {m(B64, 40)}"], [
                (0, "aws", "access_key_id"), (1, "aws", "secret_access_key")]
        if choice == 1:
            return ["{", f'  "AccessKeyId": "AKIA{s(UPPER, 16)}",', f'  "SecretAccessKey": "{m(B64, 40)}"', "}"], [
                (1, "aws", "access_key_id"), (2, "aws", "secret_access_key")]
        if choice == 2:
            return [f"DD_API_KEY={s(HEX, 32)}"], [(0, "datadog", "api_key")]
        if choice == 3:
            inside = self.section_decoys()
            lines = ["datadog:", "  site: datadoghq.eu", *[t for t, _ in inside], f"  api_key: {s(HEX, 32)}"]
            return lines, [(len(lines) - 1, "datadog", "api_key")], [(2 + i, c) for i, (_, c) in enumerate(inside)]
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
            # Older keys are 36 hex; today's end `FFFFNRAL`, the EU's start `eu01xx`.
            key = r.choice([f"{s(HEX, 36)}NRAL", f"{s(HEX, 32)}FFFFNRAL", f"eu01xx{s(HEX, 26)}FFFFNRAL"])
            return [f"license_key: {key}"], [(0, "newrelic", "license_key")]
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


def _atlassian(g):
    return "ATATT3" + g.mixed(URL, 177) + "=" + g.s("0123456789ABCDEF", 8)


# One planted shape per prefixed format added for issue 16: (variable, provider, kind, token).
PREFIXED_SHAPES = [
    ("GOOGLE_API_KEY", "google", "api_key", lambda g: "AIza" + g.mixed(URL, 35)),
    ("GOOGLE_CLIENT_SECRET", "google", "oauth_client_secret", lambda g: "GOCSPX-" + g.mixed(URL, 28)),
    ("SENDGRID_API_KEY", "sendgrid", "api_key", lambda g: f"SG.{g.mixed(URL, 22)}.{g.mixed(URL, 43)}"),
    ("NPM_TOKEN", "npm", "access_token", lambda g: "npm_" + g.mixed(ALNUM, 36)),
    ("PYPI_TOKEN", "pypi", "upload_token", lambda g: "pypi-AgEIcHlwaS5vcmc" + g.mixed(URL, 150)),
    ("RUBYGEMS_API_KEY", "rubygems", "api_key", lambda g: "rubygems_" + g.s(HEX, 48)),
    ("DOCKER_TOKEN", "docker", "personal_access_token", lambda g: "dckr_pat_" + g.mixed(URL, 27)),
    ("GITLAB_TOKEN", "gitlab", "personal_access_token", lambda g: "glpat-" + g.mixed(URL, 20)),
    ("GITLAB_PAT", "gitlab", "personal_access_token", lambda g: f"glpat-{g.mixed(URL, 38)}.01.{g.s(LOWER, 9)}"),
    ("CI_RUNNER_TOKEN", "gitlab", "runner_token", lambda g: "glrt-" + g.mixed(URL, 20)),
    ("ANTHROPIC_API_KEY", "anthropic", "api_key", lambda g: "sk-ant-api03-" + g.mixed(URL, 93) + "AA"),
    ("HF_TOKEN", "huggingface", "access_token", lambda g: "hf_" + g.s(string.ascii_letters, 34)),
    ("SHOPIFY_ACCESS_TOKEN", "shopify", "access_token", lambda g: "shpat_" + g.s(HEX, 32)),
    ("AZURE_STORAGE_CONNECTION_STRING", "azure", "storage_account_key",
     lambda g: f"\"DefaultEndpointsProtocol=https;AccountName=acme{g.s(LOWER, 4)};AccountKey={g.mixed(B64, 86)}==;EndpointSuffix=core.windows.net\""),
    ("DIGITALOCEAN_TOKEN", "digitalocean", "personal_access_token", lambda g: "dop_v1_" + g.s(HEX, 64)),
    ("DOPPLER_TOKEN", "doppler", "personal_token", lambda g: "dp.pt." + g.mixed(ALNUM, 43)),
    ("POSTMAN_API_KEY", "postman", "api_key", lambda g: f"PMAK-{g.s(HEX, 24)}-{g.s(HEX, 34)}"),
    ("PULUMI_ACCESS_TOKEN", "pulumi", "access_token", lambda g: "pul-" + g.s(HEX, 40)),
    ("GRAFANA_TOKEN", "grafana", "service_account_token", lambda g: f"glsa_{g.mixed(ALNUM, 32)}_{g.s(HEX, 8)}"),
    ("SENTRY_AUTH_TOKEN", "sentry", "user_token", lambda g: "sntryu_" + g.s(HEX, 64)),
    ("ATLASSIAN_API_TOKEN", "atlassian", "api_token", _atlassian),
    ("DATABRICKS_TOKEN", "databricks", "access_token", lambda g: "dapi" + g.s(HEX, 32)),
    ("HEROKU_API_KEY", "heroku", "api_key", lambda g: "HRKU-AA" + g.mixed(URL, 58)),
    ("SQUARE_ACCESS_TOKEN", "square", "access_token", lambda g: "sq0atp-" + g.mixed(URL, 22)),
    ("SOPS_AGE_KEY", "age", "secret_key", lambda g: "AGE-SECRET-KEY-1" + g.s(UPPER, 58)),
    ("VAULT_TOKEN", "vault", "service_token", lambda g: "hvs." + g.mixed(URL, 91)),
    ("STRIPE_WEBHOOK_SECRET", "stripe", "webhook_secret", lambda g: "whsec_" + g.mixed(ALNUM, 32)),
    ("BUILDKITE_TOKEN", "buildkite", "access_token", lambda g: "bkua_" + g.s(LOWER, 40)),
    ("SUPABASE_ACCESS_TOKEN", "supabase", "access_token", lambda g: "sbp_" + g.s(HEX, 40)),
    ("NOTION_TOKEN", "notion", "integration_token", lambda g: "ntn_" + g.s(string.digits, 11) + g.mixed(ALNUM, 35)),
    ("CONTENTFUL_TOKEN", "contentful", "personal_access_token", lambda g: "CFPAT-" + g.mixed(URL, 43)),
    ("DT_API_TOKEN", "dynatrace", "api_token", lambda g: f"dt0c01.{g.s(UPPER, 24)}.{g.s(UPPER, 64)}"),
    ("PREFECT_API_KEY", "prefect", "api_key", lambda g: "pnu_" + g.mixed(ALNUM, 36)),
    ("REPLICATE_API_TOKEN", "replicate", "api_token", lambda g: "r8_" + g.mixed(ALNUM, 37)),
    ("GROQ_API_KEY", "groq", "api_key", lambda g: "gsk_" + g.mixed(ALNUM, 52)),
    ("PPLX_API_KEY", "perplexity", "api_key", lambda g: "pplx-" + g.mixed(ALNUM, 48)),
    ("FIGMA_TOKEN", "figma", "personal_access_token", lambda g: "figd_" + g.mixed(URL, 40)),
    ("PLANETSCALE_TOKEN", "planetscale", "service_token", lambda g: "pscale_tkn_" + g.mixed(URL, 43)),
    ("SHIPPO_TOKEN", "shippo", "api_token", lambda g: "shippo_live_" + g.s(HEX, 40)),
    ("CLOJARS_TOKEN", "clojars", "deploy_token", lambda g: "CLOJARS_" + g.s(LOWER, 60)),
    ("ARTIFACTORY_API_KEY", "artifactory", "api_key", lambda g: "AKCp" + g.mixed(ALNUM, 69)),
    ("FLY_API_TOKEN", "flyio", "access_token", lambda g: "fo1_" + g.mixed(URL, 43)),
    ("SRC_ACCESS_TOKEN", "sourcegraph", "access_token", lambda g: "sgp_" + g.s(HEX, 40)),
    ("TS_AUTHKEY", "tailscale", "auth_key", lambda g: f"tskey-auth-{g.mixed(ALNUM, 12)}-{g.mixed(ALNUM, 30)}"),
    ("TFE_TOKEN", "terraform", "api_token", lambda g: f"{g.s(LOWER, 14)}.atlasv1.{g.mixed(URL, 67)}"),
    ("MAPBOX_SECRET", "mapbox", "secret_token", lambda g: f"sk.eyJ{g.mixed(URL, 60)}.{g.mixed(URL, 22)}"),
    ("OP_SERVICE_ACCOUNT_TOKEN", "1password", "service_account_token", lambda g: "ops_eyJ" + g.mixed(B64, 300)),
]


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
        for planted in plants.get(k, []):
            snippet, records = planted[0], planted[1]
            inside = planted[2] if len(planted) > 2 else []
            at = r.randint(0, len(lines))
            # No spread decoy within eight lines of a planted key.
            for j in range(max(0, at - 8), min(len(lines), at + 8)):
                if lines[j][1] is not None and lines[j][1][0] == "decoy":
                    lines[j] = (g.filler(ext), None)
            tagged = [(t, None) for t in snippet]
            for off, provider, kind in records:
                tagged[off] = (tagged[off][0], ("key", provider, kind))
            for off, cls in inside:
                tagged[off] = (tagged[off][0], ("near", cls))
            # Ids, hashes and blobs right before and after it, naming its provider.
            provider = records[0][1]
            before = [(t, ("near", c)) for t, c in g.near_decoys(provider)]
            after = [(t, ("near", c)) for t, c in g.near_decoys(provider)]
            lines[at:at] = before + tagged + after
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
            elif tag and tag[0] in ("decoy", "near"):
                manifest["decoys"].append({"path": rel, "line": j + 1, "kind": tag[1]})
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print(f"{manifest['files']} files, {manifest['bytes'] / 1048576:.1f} MiB, {len(manifest['keys'])} planted keys, {len(manifest['decoys'])} decoys in {tree}")


if __name__ == "__main__":
    main()
