//! Small cryptographic helpers on aws-lc-rs: random tokens and codes, digests, and the
//! envelope for sensitive personal information (实名认证).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the system random source failed")]
    Random,
    #[error("the key is invalid: {0}")]
    Key(&'static str),
    #[error("the ciphertext is invalid or was tampered with")]
    Open,
}

/// 32 random bytes, base64url: an email-link or reset token.
pub fn random_token() -> Result<String, CryptoError> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `n` uniformly random decimal digits (rejection sampling, so no digit is favoured).
pub fn random_digits(n: usize) -> Result<String, CryptoError> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 16];
        rand::fill(&mut b).map_err(|_| CryptoError::Random)?;
        for byte in b {
            // 250 = 25 × 10: bytes 250..=255 would bias 0–5.
            if byte < 250 && out.len() < n {
                out.push(char::from(b'0' + byte % 10));
            }
        }
    }
    Ok(out)
}

/// Lower-case hex SHA-256: how single-use tokens are stored (the token itself never is).
pub fn sha256_hex(data: &str) -> String {
    sha256_hex_of(data.as_bytes())
}

/// Lower-case hex SHA-256 of bytes (a file's checksum).
pub fn sha256_hex_of(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals and opens sensitive personal information (real names, ID numbers) with AES-256-GCM,
/// and computes a keyed blind index so equal ID numbers can be found without decrypting.
/// Both keys are derived with HKDF from one 32-byte master key (base64, the `pii_key` of the `PII_SECRET_ID` secret).
pub struct PiiVault {
    seal: LessSafeKey,
    index: hmac::Key,
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiVault(***)")
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// A new 实名认证 key secret, as `PII_SECRET_ID` names it: `{"pii_key": "<base64 of 32
/// random bytes>"}` (`devtool pii-key`).
pub fn new_pii_secret() -> Result<String, CryptoError> {
    let mut key = [0u8; 32];
    rand::fill(&mut key).map_err(|_| CryptoError::Key("no randomness"))?;
    Ok(serde_json::json!({ "pii_key": STANDARD.encode(key) }).to_string())
}

impl PiiVault {
    pub fn new(master_b64: &SecretString) -> Result<PiiVault, CryptoError> {
        let master = STANDARD
            .decode(master_b64.expose_secret().trim())
            .map_err(|_| CryptoError::Key("the PII key must be base64"))?;
        if master.len() != 32 {
            return Err(CryptoError::Key("the PII key must decode to 32 bytes"));
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"gigbao/pii").extract(&master);
        let expand = |label: &'static [u8]| -> Result<[u8; 32], CryptoError> {
            let info = [label];
            let okm = prk
                .expand(&info, Len(32))
                .map_err(|_| CryptoError::Key("hkdf"))?;
            let mut out = [0u8; 32];
            okm.fill(&mut out).map_err(|_| CryptoError::Key("hkdf"))?;
            Ok(out)
        };
        let seal_key = expand(b"seal/v1")?;
        let index_key = expand(b"index/v1")?;
        Ok(PiiVault {
            seal: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, &seal_key).map_err(|_| CryptoError::Key("aes"))?,
            ),
            index: hmac::Key::new(hmac::HMAC_SHA256, &index_key),
        })
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`. `context` (e.g. the record id) is authenticated
    /// but not stored, so a sealed value cannot be moved to another record.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut buf = plaintext.as_bytes().to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
        let mut buf = rest.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Open)
    }

    /// A deterministic, keyed fingerprint of `value` under `kind`: equal inputs give equal
    /// indexes, and without the key it reveals nothing about the input.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let tag = hmac::sign(&self.index, format!("{kind}\n{value}").as_bytes());
        hex(tag.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> PiiVault {
        PiiVault::new(&SecretString::from(STANDARD.encode([7u8; 32]))).unwrap()
    }

    #[test]
    fn sealed_values_open_only_in_their_own_context() {
        let v = vault();
        let sealed = v.seal("11010519491231002X", "VER#1").unwrap();
        assert!(!sealed.contains("11010519491231002X"));
        assert_eq!(v.open(&sealed, "VER#1").unwrap(), "11010519491231002X");
        assert_eq!(v.open(&sealed, "VER#2"), Err(CryptoError::Open));
        // Two seals of one value differ (fresh nonce); their blind indexes agree.
        assert_ne!(sealed, v.seal("11010519491231002X", "VER#1").unwrap());
        assert_eq!(
            v.blind_index("id", "11010519491231002X"),
            v.blind_index("id", "11010519491231002X")
        );
        assert_ne!(
            v.blind_index("id", "11010519491231002X"),
            v.blind_index("id", "110105194912310037")
        );
    }

    #[test]
    fn a_bad_master_key_is_refused() {
        assert!(PiiVault::new(&SecretString::from("short".to_owned())).is_err());
        assert!(PiiVault::new(&SecretString::from(STANDARD.encode([1u8; 16]))).is_err());
    }

    #[test]
    fn codes_are_digits_of_the_asked_length() {
        for _ in 0..100 {
            let c = random_digits(6).unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(random_token().unwrap().len(), 43);
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
