//! The inventory as the scan knows it: keyed hashes of the secrets Keyward holds, and the
//! non-secret ids of its keys — never a plaintext secret.
//!
//! Each secret is kept as HMAC-SHA256 under a key derived from the vault's data key, so the index
//! (and the fingerprints stored with exposures) reveal nothing without the vault, and a
//! fingerprint from one vault means nothing in another. While scanning, every token whose length
//! is the length of some held secret is hashed and looked up; a match is a certain hit. Ids that
//! are not secret (AWS access key ids, Atlas public keys) and Datadog's `last4` are weaker
//! evidence: they say which key a found token probably is.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::audit::{FastMap, FastSet};

/// A secret's fingerprint: HMAC-SHA256 under the vault's scan key.
pub type Fingerprint = [u8; 32];

/// What a held secret or id belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The inventoried key, when Keyward knows which it is.
    pub key_id: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Kind of credential.
    pub kind: String,
    /// The connector whose own credential this is.
    pub connector: Option<String>,
    /// Where Keyward holds it ("key lin-ci", "connector datadog-prod: app_key").
    pub label: String,
}

/// How sure a match to the inventory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The found token hashes to a secret Keyward holds.
    Secret,
    /// The found token is a key's public id (an AWS access key id).
    Id,
    /// The found token ends like a key the provider lists (Datadog's `last4`).
    Last4,
    /// The user linked this found key to an inventoried one.
    Linked,
}

impl Evidence {
    /// The stable lowercase form.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Secret => "secret",
            Evidence::Id => "id",
            Evidence::Last4 => "last4",
            Evidence::Linked => "linked",
        }
    }
}

/// Keyed hashes of held secrets and the ids of inventoried keys.
pub struct Index {
    mac: Hmac<Sha256>,
    /// Bit `n` set when some held secret is `n` bytes long (n < 256).
    lengths: [u64; 4],
    /// The shortest held secret's length (`usize::MAX` when none is held).
    min_len: usize,
    digests: FastMap<Fingerprint, usize>,
    linked: FastSet<Fingerprint>,
    ids: FastMap<String, usize>,
    last4: FastMap<(String, String, String), Vec<usize>>,
    targets: Vec<Target>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("secrets", &self.digests.len()).field("ids", &self.ids.len()).finish()
    }
}

/// Bytes a secret token is made of; a run of them is one candidate.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN[b as usize]
}

static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'+' || b == b'/';
        i += 1;
    }
    t
};

impl Index {
    /// An empty index whose fingerprints are keyed by `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length"),
            lengths: [0; 4],
            min_len: usize::MAX,
            digests: FastMap::default(),
            linked: FastSet::default(),
            ids: FastMap::default(),
            last4: FastMap::default(),
            targets: Vec::new(),
        }
    }

    /// The keyed fingerprint of a token.
    pub fn fingerprint(&self, token: &[u8]) -> Fingerprint {
        let mut mac = self.mac.clone();
        mac.update(token);
        mac.finalize().into_bytes().into()
    }

    fn push(&mut self, target: Target) -> usize {
        self.targets.push(target);
        self.targets.len() - 1
    }

    /// Adds a held secret. Its fingerprint always joins the index, so a format the detector
    /// finds (`SG.….…`, `hvs.…`, `AccountKey=…==`, a 300-byte PyPI token) is matched to it. The
    /// held-secret pass, which hashes every long-enough run of token bytes, looks only for
    /// secrets of 12 to 255 token bytes: shorter ones would make too many innocent tokens share
    /// their length, and others cannot be one run.
    pub fn add_secret(&mut self, secret: &str, target: Target) {
        let len = secret.len();
        if len == 0 {
            return;
        }
        let fp = self.fingerprint(secret.as_bytes());
        let t = self.push(target);
        self.digests.insert(fp, t);
        if (12..256).contains(&len) && secret.bytes().all(is_token_byte) {
            self.lengths[len / 64] |= 1 << (len % 64);
            self.min_len = self.min_len.min(len);
        }
    }

    /// Adds a fingerprint Keyward already knows (a found key the user linked to an inventoried
    /// one): formats the detector finds are then matched to it.
    pub fn add_fingerprint(&mut self, fp: Fingerprint, target: Target) {
        let t = self.push(target);
        self.digests.entry(fp).or_insert(t);
        self.linked.insert(fp);
    }

    /// Adds a key's public id (an AWS access key id, an Atlas public key).
    pub fn add_id(&mut self, id: &str, target: Target) {
        let t = self.push(target);
        self.ids.insert(id.to_owned(), t);
    }

    /// Adds what a provider shows of a key (Datadog's last four characters).
    pub fn add_last4(&mut self, last4: &str, target: Target) {
        let k = (target.provider.clone(), target.kind.clone(), last4.to_owned());
        let t = self.push(target);
        self.last4.entry(k).or_default().push(t);
    }

    /// How many secrets are indexed.
    pub fn secrets(&self) -> usize {
        self.digests.len()
    }

    /// The target of a fingerprint, if it is a held secret's.
    pub fn by_fingerprint(&self, fp: &Fingerprint) -> Option<&Target> {
        self.digests.get(fp).map(|&t| &self.targets[t])
    }

    /// The target and evidence of a fingerprint: a held secret, or a found key the user linked.
    pub fn match_fingerprint(&self, fp: &Fingerprint) -> Option<(Target, Evidence)> {
        let t = self.by_fingerprint(fp)?.clone();
        Some((t, if self.linked.contains(fp) { Evidence::Linked } else { Evidence::Secret }))
    }

    /// The target of a public id.
    pub fn by_id(&self, id: &str) -> Option<&Target> {
        self.ids.get(id).map(|&t| &self.targets[t])
    }

    /// The one key of `provider` and `kind` ending in `last4`; `None` when none or several.
    pub fn by_last4(&self, provider: &str, kind: &str, token: &str) -> Option<&Target> {
        let last4 = token.get(token.len().saturating_sub(4)..)?;
        match self.last4.get(&(provider.to_owned(), kind.to_owned(), last4.to_owned()))?.as_slice() {
            [one] => Some(&self.targets[*one]),
            _ => None,
        }
    }

    fn has_length(&self, len: usize) -> bool {
        len < 256 && self.lengths[len / 64] & (1 << (len % 64)) != 0
    }

    /// Every token of `buf` that is a held secret: `(start, end, fingerprint)`.
    ///
    /// Only runs of token bytes at least as long as the shortest held secret matter, so the
    /// loop looks at one byte every `min` bytes (Boyer-Moore's idea): when that byte is not a
    /// token byte, no long-enough run can cover the bytes before it; when it is, the run around
    /// it is measured and skipped whole. Prose and code, made of short words, are mostly skipped.
    pub fn held_in(&self, buf: &[u8], out: &mut Vec<(usize, usize, Fingerprint)>) {
        out.clear();
        if self.min_len == usize::MAX {
            return;
        }
        let n = buf.len();
        let min = self.min_len;
        let mut i = 0;
        while i + min <= n {
            let p = i + min - 1;
            if !TOKEN[buf[p] as usize] {
                i = p + 1;
                continue;
            }
            let mut start = p;
            while start > i && TOKEN[buf[start - 1] as usize] {
                start -= 1;
            }
            let mut end = p + 1;
            while end < n && TOKEN[buf[end] as usize] {
                end += 1;
            }
            if end - start >= min {
                self.check(buf, start, end, out);
            }
            i = end + 1;
        }
    }

    fn check(&self, buf: &[u8], start: usize, end: usize, out: &mut Vec<(usize, usize, Fingerprint)>) {
        if self.has_length(end - start) {
            let fp = self.fingerprint(&buf[start..end]);
            if self.digests.contains_key(&fp) {
                out.push((start, end, fp));
                return;
            }
        }
        // A secret inside a URL path or after a `-`-joined prefix is a part of a longer run.
        let run = &buf[start..end];
        if run.contains(&b'/') {
            let mut s = start;
            for part in run.split(|&b| b == b'/') {
                let e = s + part.len();
                if e > s && e - s < end - start && self.has_length(e - s) {
                    let fp = self.fingerprint(&buf[s..e]);
                    if self.digests.contains_key(&fp) {
                        out.push((s, e, fp));
                    }
                }
                s = e + 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> Target {
        Target {
            key_id: Some(name.into()),
            provider: "linear".into(),
            kind: "api_key".into(),
            connector: None,
            label: name.into(),
        }
    }

    #[test]
    fn finds_held_secrets_by_hash_only() {
        let mut idx = Index::new(&[7; 32]);
        idx.add_secret("lin_api_0123456789abcdefghij0123456789abcdefghij", target("k1"));
        // Too short for the held-secret pass (its fingerprint is kept, for formats found).
        idx.add_secret("short", target("never"));
        assert_eq!(idx.secrets(), 2);
        let text = b"LINEAR=lin_api_0123456789abcdefghij0123456789abcdefghij\nurl https://x.test/v1/lin_api_0123456789abcdefghij0123456789abcdefghij/q\nlin_api_0123456789abcdefghij0123456789abcdefghiX";
        let mut out = Vec::new();
        idx.held_in(text, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(&text[out[0].0..out[0].1], b"lin_api_0123456789abcdefghij0123456789abcdefghij");
        assert_eq!(idx.by_fingerprint(&out[1].2), Some(&target("k1")));
        // Another vault key, another fingerprint.
        assert_ne!(Index::new(&[8; 32]).fingerprint(b"abc"), idx.fingerprint(b"abc"));
        assert!(!format!("{idx:?}").contains("lin_api"));
    }

    #[test]
    fn the_skipping_loop_finds_what_a_byte_by_byte_loop_finds() {
        let mut idx = Index::new(&[3; 32]);
        let secrets = ["abcdefghijkl", "0123456789abcdef0123", "x/y+z_w-v0123456789ab"];
        for s in secrets {
            idx.add_secret(s, target(s));
        }
        // Random text over a small alphabet (spaces, slashes, token bytes) with secrets planted.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut buf = Vec::new();
            for _ in 0..(next() % 400) {
                match next() % 10 {
                    0 => buf.push(b' '),
                    1 => buf.push(b'/'),
                    2 => buf.extend_from_slice(secrets[(next() % 3) as usize].as_bytes()),
                    _ => buf.push(b"ab01_-x"[(next() % 7) as usize]),
                }
            }
            let mut fast = Vec::new();
            idx.held_in(&buf, &mut fast);
            let mut slow = Vec::new();
            let mut i = 0;
            while i < buf.len() {
                if !TOKEN[buf[i] as usize] {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < buf.len() && TOKEN[buf[i] as usize] {
                    i += 1;
                }
                idx.check(&buf, start, i, &mut slow);
            }
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&buf));
        }
    }

    #[test]
    fn last4_names_one_key_or_none() {
        let mut idx = Index::new(&[7; 32]);
        let t = |k: &str| Target {
            key_id: Some(k.into()),
            provider: "datadog".into(),
            kind: "api_key".into(),
            connector: None,
            label: k.into(),
        };
        idx.add_last4("beef", t("a"));
        idx.add_last4("cafe", t("b"));
        idx.add_last4("cafe", t("c"));
        assert_eq!(idx.by_last4("datadog", "api_key", "0123beef").map(|t| t.label.as_str()), Some("a"));
        assert_eq!(idx.by_last4("datadog", "api_key", "0123cafe"), None);
        assert_eq!(idx.by_last4("datadog", "application_key", "0123beef"), None);
    }
}
