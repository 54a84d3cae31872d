//! Sealing secrets at rest: XChaCha20-Poly1305 envelopes and the Argon2id passphrase KDF.
//!
//! The key hierarchy follows atuin's and Yaak's reasoning: a random **data key** per vault seals
//! every secret; a **master key** wraps the data key; the master key lives in the OS keychain, or
//! is itself wrapped by a key derived from a passphrase. Changing the passphrase or moving the
//! master key re-wraps one small blob instead of re-encrypting every record.
//!
//! Every sealed blob is `b"KW" | version | nonce (24) | ciphertext+tag`, so the format can evolve;
//! the associated data names the table, column and row the blob belongs to, so a blob copied into
//! another row or column fails to open instead of revealing the wrong secret.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The format tag every sealed blob starts with.
pub const TAG: &[u8; 2] = b"KW";
/// The current envelope version.
pub const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = TAG.len() + 1 + NONCE_LEN;

/// Why a blob could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The blob does not start with the Keyward tag or is too short.
    #[error("not a Keyward sealed value")]
    BadFormat,
    /// The blob was written by a newer Keyward.
    #[error("sealed with format version {0}, which this Keyward does not know")]
    UnsupportedVersion(u8),
    /// The key is wrong, the blob was altered, or it belongs to another row or column.
    #[error("authentication failed: wrong key, tampered data, or a value moved from another place")]
    Unauthentic,
    /// The passphrase KDF parameters are unusable.
    #[error("invalid key-derivation parameters: {0}")]
    Kdf(String),
    /// The OS random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// A 256-bit symmetric key that zeroizes on drop and never prints.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; 32]);

impl Key {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| CryptoError::Random)?;
        Ok(Self(bytes))
    }

    /// A key from raw bytes (e.g. unwrapped from a blob or read from the keychain).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    /// The raw bytes, to wrap or store in the keychain.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Seals `plaintext` under `key`, bound to `aad`.
pub fn seal(key: &Key, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(|_| CryptoError::Random)?;
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let header_aad = full_aad(VERSION, aad);
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &header_aad })
        .map_err(|_| CryptoError::Unauthentic)?;
    let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
    out.extend_from_slice(TAG);
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a blob made by [`seal`] with the same key and associated data.
pub fn open(key: &Key, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if blob.len() < HEADER_LEN + 16 || &blob[..2] != TAG {
        return Err(CryptoError::BadFormat);
    }
    let version = blob[2];
    if version != VERSION {
        return Err(CryptoError::UnsupportedVersion(version));
    }
    let nonce = XNonce::from_slice(&blob[3..HEADER_LEN]);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let header_aad = full_aad(version, aad);
    cipher
        .decrypt(nonce, Payload { msg: &blob[HEADER_LEN..], aad: &header_aad })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Unauthentic)
}

/// The version byte is authenticated too, so a downgrade of the header is detected.
fn full_aad(version: u8, aad: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(aad.len() + 3);
    v.extend_from_slice(TAG);
    v.push(version);
    v.extend_from_slice(aad);
    v
}

/// Argon2id parameters, stored in the vault beside the salt so a vault opens with the
/// parameters it was made with even after the defaults change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// OWASP's recommended Argon2id floor (19 MiB, 2 passes, 1 lane) raised to 64 MiB / 3 passes:
    /// about a quarter of a second here, paid once per unlock.
    fn default() -> Self {
        Self { m_cost: 64 * 1024, t_cost: 3, p_cost: 1 }
    }
}

impl KdfParams {
    /// The most a vault file may ask for: 1 GiB, 16 passes, 16 lanes. The parameters are read
    /// from the file, which an attacker may have written: without a bound one unlock could take
    /// all memory or hours.
    pub const MAX: KdfParams = KdfParams { m_cost: 1024 * 1024, t_cost: 16, p_cost: 16 };

    /// Refuses parameters beyond [`KdfParams::MAX`].
    pub fn check(&self) -> Result<(), CryptoError> {
        let max = Self::MAX;
        if self.m_cost > max.m_cost || self.t_cost > max.t_cost || self.p_cost > max.p_cost {
            return Err(CryptoError::Kdf(format!(
                "KDF parameters beyond what Keyward writes or accepts (memory {} KiB, {} passes, {} lanes; at most {} KiB, {}, {})",
                self.m_cost, self.t_cost, self.p_cost, max.m_cost, max.t_cost, max.p_cost
            )));
        }
        Ok(())
    }
}

/// Derives a key-encryption key from a passphrase with Argon2id.
pub fn derive_key(passphrase: &str, salt: &[u8], params: KdfParams) -> Result<Key, CryptoError> {
    params.check()?;
    let p = argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    argon.hash_password_into(passphrase.as_bytes(), salt, out.as_mut()).map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(Key(*out))
}

/// Random bytes (salts, ids).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key([byte; 32])
    }

    #[test]
    fn round_trip() {
        let blob = seal(&key(1), b"s3cr3t", b"api_keys:secret:1").unwrap();
        assert_eq!(&blob[..3], b"KW\x01");
        assert_eq!(open(&key(1), &blob, b"api_keys:secret:1").unwrap().as_slice(), b"s3cr3t");
    }

    #[test]
    fn nonces_differ_so_equal_plaintexts_do_not_match() {
        let a = seal(&key(1), b"same", b"x").unwrap();
        let b = seal(&key(1), b"same", b"x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_fails() {
        let blob = seal(&key(1), b"s3cr3t", b"a").unwrap();
        assert_eq!(open(&key(2), &blob, b"a").unwrap_err(), CryptoError::Unauthentic);
    }

    #[test]
    fn any_flipped_bit_fails() {
        let blob = seal(&key(1), b"s3cr3t", b"a").unwrap();
        for i in 3..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            assert_eq!(open(&key(1), &t, b"a").unwrap_err(), CryptoError::Unauthentic, "byte {i}");
        }
    }

    #[test]
    fn a_blob_moved_to_another_row_fails() {
        let blob = seal(&key(1), b"s3cr3t", b"api_keys:secret:1").unwrap();
        assert_eq!(open(&key(1), &blob, b"api_keys:secret:2").unwrap_err(), CryptoError::Unauthentic);
        assert_eq!(open(&key(1), &blob, b"connectors:secret:1").unwrap_err(), CryptoError::Unauthentic);
    }

    #[test]
    fn header_is_checked() {
        let mut blob = seal(&key(1), b"s3cr3t", b"a").unwrap();
        blob[2] = 9;
        assert_eq!(open(&key(1), &blob, b"a").unwrap_err(), CryptoError::UnsupportedVersion(9));
        blob[0] = b'X';
        assert_eq!(open(&key(1), &blob, b"a").unwrap_err(), CryptoError::BadFormat);
        assert_eq!(open(&key(1), b"KW", b"a").unwrap_err(), CryptoError::BadFormat);
    }

    #[test]
    fn passphrase_derivation_is_deterministic_and_salted() {
        let fast = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let a = derive_key("correct horse", b"0123456789abcdef", fast).unwrap();
        let b = derive_key("correct horse", b"0123456789abcdef", fast).unwrap();
        let c = derive_key("correct horse", b"fedcba9876543210", fast).unwrap();
        let d = derive_key("wrong horse", b"0123456789abcdef", fast).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        assert_ne!(a.expose(), d.expose());
    }

    #[test]
    fn kdf_parameters_beyond_the_bound_are_refused_before_any_work() {
        for params in [
            KdfParams { m_cost: u32::MAX, t_cost: 1, p_cost: 1 },
            KdfParams { m_cost: 1024, t_cost: u32::MAX, p_cost: 1 },
            KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1000 },
        ] {
            let e = derive_key("pw", b"0123456789abcdef", params).unwrap_err();
            assert!(e.to_string().contains("beyond what Keyward"), "{e}");
        }
        assert!(KdfParams::default().check().is_ok());
    }

    #[test]
    fn key_debug_is_redacted() {
        assert_eq!(format!("{:?}", key(7)), "Key(<redacted>)");
    }
}
