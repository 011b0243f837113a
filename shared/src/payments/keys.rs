//! The gateways' cryptography on aws-lc-rs: SHA256withRSA (PKCS#1 v1.5) signatures, which
//! Alipay calls RSA2 and WeChat Pay v3 calls `WECHATPAY2-SHA256-RSA2048`; AES-256-GCM for
//! WeChat Pay's encrypted notification resources; RSA-OAEP (SHA-1) for the fields WeChat Pay
//! wants encrypted to its public key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("not a PEM or base64 DER key")]
    Encoding,
    #[error("not an RSA key of 2048 bits or more")]
    Rejected,
    #[error("the key is not 32 bytes")]
    Length,
}

/// The DER inside a PEM block, or inside bare base64 (how Alipay's console shows keys).
/// Accepts `\n` written as two characters, as keys often arrive in environment variables.
pub fn der_of(text: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.replace("\\n", "\n");
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    STANDARD.decode(body).map_err(|_| KeyError::Encoding)
}

/// Our private key, signing what we send.
pub struct RsaSigner {
    pair: RsaKeyPair,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigner(***)")
    }
}

impl RsaSigner {
    /// PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`), PEM or bare base64.
    pub fn from_pem(text: &str) -> Result<RsaSigner, KeyError> {
        let der = der_of(text)?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map_err(|_| KeyError::Rejected)?;
        Ok(RsaSigner { pair })
    }

    /// Base64 of SHA256withRSA over `message`. PKCS#1 v1.5 is deterministic: the same key and
    /// message always give the same signature (what the known-answer tests rely on).
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| KeyError::Rejected)?;
        Ok(STANDARD.encode(sig))
    }
}

/// A gateway's public key, checking what it sends.
#[derive(Clone)]
pub struct RsaVerifier {
    der: Vec<u8>,
}

impl std::fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaVerifier")
    }
}

impl RsaVerifier {
    /// SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, Alipay's and WeChat Pay's format) or PKCS#1,
    /// PEM or bare base64.
    pub fn from_pem(text: &str) -> Result<RsaVerifier, KeyError> {
        RsaVerifier::from_der(der_of(text)?)
    }

    fn from_der(der: Vec<u8>) -> Result<RsaVerifier, KeyError> {
        aws_lc_rs::rsa::PublicKey::from_der(&der).map_err(|_| KeyError::Rejected)?;
        Ok(RsaVerifier { der })
    }

    /// Is `signature_b64` a valid SHA256withRSA signature of `message`?
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> bool {
        let Ok(sig) = STANDARD.decode(signature_b64.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.der)
            .verify(message, &sig)
            .is_ok()
    }

    /// Base64 of RSA-OAEP (SHA-1, MGF1-SHA-1) of `plaintext`: how WeChat Pay wants a payee's
    /// name sent.
    pub fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let key = PublicEncryptingKey::from_der(&self.der).map_err(|_| KeyError::Rejected)?;
        let key = OaepPublicEncryptingKey::new(key).map_err(|_| KeyError::Rejected)?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let ct = key
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
            .map_err(|_| KeyError::Rejected)?;
        Ok(STANDARD.encode(ct))
    }
}

/// Opens an `AEAD_AES_256_GCM` resource: base64 ciphertext with the 16-byte tag at its end,
/// the nonce and associated data as given (UTF-8 strings), the APIv3 key's 32 bytes.
pub fn aes_256_gcm_open(
    key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).ok()?;
    let mut data = STANDARD.decode(ciphertext_b64).ok()?;
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut data)
        .ok()?;
    Some(plain.to_vec())
}

/// Seals like [`aes_256_gcm_open`] opens: what the local gateway sandbox and the tests use to
/// play WeChat Pay.
pub fn aes_256_gcm_seal(
    key: &[u8],
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Option<String> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).ok()?;
    let mut data = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut data)
        .ok()?;
    Some(STANDARD.encode(data))
}
