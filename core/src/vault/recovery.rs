//! The recovery kit: a random 256-bit recovery key, shown once for the user to print or store
//! apart from the machine, that unwraps the master key a second way. It exists because the
//! keychain that holds a keychain-protected vault's master key does not move with the vault
//! file: a new machine, a reinstalled OS or a forgotten passphrase would otherwise leave every
//! secret in the vault unreadable. Recovering re-wraps the master key (new passphrase or the
//! keychain); nothing is re-encrypted.
//!
//! The key is written in RFC 4648 base32 in groups of four with a four-letter check group, so a
//! mistyped letter is told as a typo, not as a wrong key; `0`, `1` and `8` are read as `O`, `I`
//! and `B`, and case, spaces and dashes do not matter.

use zeroize::Zeroizing;

use crate::Secret;
use crate::crypto::{self, Key};

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// 32 bytes are 52 base32 letters, and 4 more check them.
const KEY_LETTERS: usize = 52;
const CHECK_LETTERS: usize = 4;

/// Why a typed recovery key was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecoveryKeyError {
    /// Not 56 letters of the kit's alphabet.
    #[error("a recovery key is 56 letters and digits (14 groups of 4); this one has {0}")]
    Length(usize),
    /// A character outside the alphabet.
    #[error("a recovery key holds only letters A–Z and digits 2–7; found {0:?}")]
    Character(char),
    /// The check group does not match: a typo.
    #[error("the recovery key has a typo (its last group does not match the others)")]
    Check,
}

/// A new random recovery key: its bytes and its printed form.
pub(super) fn generate() -> Result<(Zeroizing<[u8; 32]>, Secret), crypto::CryptoError> {
    let bytes = Zeroizing::new(crypto::random_bytes::<32>()?);
    let printed = Secret::new(format(&bytes));
    Ok((bytes, printed))
}

/// The printed form: base32 + check, in groups of four.
fn format(bytes: &[u8; 32]) -> String {
    let mut letters = Zeroizing::new(base32(bytes));
    letters.push_str(&check(bytes));
    letters.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join("-")
}

/// Reads a typed recovery key back into its bytes.
pub fn parse(typed: &str) -> Result<Zeroizing<[u8; 32]>, RecoveryKeyError> {
    let mut letters = Zeroizing::new(Vec::with_capacity(KEY_LETTERS + CHECK_LETTERS));
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' | '\n' | '\r' => continue,
            '0' => 'O',
            '1' => 'I',
            '8' => 'B',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return Err(RecoveryKeyError::Character(c));
        }
        letters.push(c as u8);
    }
    if letters.len() != KEY_LETTERS + CHECK_LETTERS {
        return Err(RecoveryKeyError::Length(letters.len()));
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    let (mut acc, mut bits, mut i) = (0u64, 0u32, 0usize);
    for &l in &letters[..KEY_LETTERS] {
        acc = (acc << 5) | ALPHABET.iter().position(|&a| a == l).expect("checked") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            if i < 32 {
                bytes[i] = (acc >> bits) as u8;
            }
            i += 1;
            acc &= (1 << bits) - 1;
        }
    }
    if check(&bytes).as_bytes() != &letters[KEY_LETTERS..] {
        return Err(RecoveryKeyError::Check);
    }
    Ok(bytes)
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u64, 0u32);
    for &b in bytes {
        acc = (acc << 8) | b as u64;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn check(bytes: &[u8; 32]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    base32(&digest[..3])[..CHECK_LETTERS].to_owned()
}

/// The key that wraps the master key for the recovery key `bytes` of vault `vault_id`.
pub(super) fn wrapping_key(bytes: &[u8; 32], vault_id: &str) -> Key {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(bytes).expect("any key length");
    mac.update(format!("keyward/v1/{vault_id}/recovery-key").as_bytes());
    let derived = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    Key::from_bytes(derived.as_slice()).expect("32 bytes")
}

/// The associated data of the master key wrapped for recovery.
pub(super) fn aad(vault_id: &str) -> Vec<u8> {
    format!("keyward/v1/{vault_id}/vault_meta/recovery_master").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_key_reads_back_and_typos_are_told() {
        for _ in 0..50 {
            let (bytes, printed) = generate().unwrap();
            let text = printed.expose();
            assert_eq!(text.len(), 14 * 4 + 13, "{text}");
            assert_eq!(*parse(text).unwrap(), *bytes);
            // Lower case, no dashes, spaces, 0/1/8 for O/I/B.
            let sloppy = text.to_lowercase().replace('-', " ").replace('o', "0").replace('i', "1").replace('b', "8");
            assert_eq!(*parse(&sloppy).unwrap(), *bytes);
            // One letter changed anywhere: a typo (or, rarely, the check collides: 1 in 2^20).
            let mut chars: Vec<char> = text.chars().collect();
            chars[5] = if chars[5] == 'A' { 'C' } else { 'A' };
            let typo: String = chars.into_iter().collect();
            assert_eq!(parse(&typo).unwrap_err(), RecoveryKeyError::Check);
        }
        assert_eq!(parse("ABCD").unwrap_err(), RecoveryKeyError::Length(4));
        assert_eq!(parse(&"A".repeat(55).replace("AAAA", "AA!A")).unwrap_err(), RecoveryKeyError::Character('!'));
    }
}
