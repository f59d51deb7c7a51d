//! Webhook signing secrets at rest. floe must send the secret back in every
//! `WebhookEndpoint` and sign with it, so it cannot be hashed like a token; it is sealed
//! instead (ChaCha20-Poly1305 under a key derived from the server secret, with the
//! endpoint's ID as associated data, so a sealed value copied onto another endpoint does not
//! open). A database dump alone does not reveal any endpoint's secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use crate::auth::ServerSecret;

const VERSION: &str = "v1:";

fn key(secret: &ServerSecret) -> LessSafeKey {
    let bytes = secret.sign("webhook-secret-sealing-key", b"");
    #[expect(
        clippy::expect_used,
        reason = "a 32-byte key is valid for ChaCha20-Poly1305"
    )]
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, &bytes).expect("32-byte key");
    LessSafeKey::new(unbound)
}

/// Seals `plain` for the endpoint `id`.
pub fn seal(secret: &ServerSecret, id: Uuid, plain: &str) -> anyhow::Result<String> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| anyhow::anyhow!("the OS random source failed"))?;
    let mut buffer = plain.as_bytes().to_vec();
    key(secret)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut buffer,
        )
        .map_err(|_| anyhow::anyhow!("sealing failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buffer);
    Ok(format!("{VERSION}{}", STANDARD.encode(out)))
}

/// Opens what [`seal`] made for the endpoint `id`.
pub fn open(secret: &ServerSecret, id: Uuid, sealed: &str) -> anyhow::Result<String> {
    let encoded = sealed
        .strip_prefix(VERSION)
        .ok_or_else(|| anyhow::anyhow!("unknown sealing version"))?;
    let bytes = STANDARD.decode(encoded)?;
    if bytes.len() < NONCE_LEN {
        anyhow::bail!("sealed secret too short");
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
    let mut buffer = rest.to_vec();
    let plain = key(secret)
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut buffer,
        )
        .map_err(|_| anyhow::anyhow!("the sealed secret does not open (wrong server secret?)"))?;
    Ok(String::from_utf8(plain.to_vec())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let secret = ServerSecret::new(vec![7u8; 32]);
        let id = Uuid::new_v4();
        let sealed = seal(&secret, id, "whsec_abc").unwrap_or_default();
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            open(&secret, id, &sealed).ok().as_deref(),
            Some("whsec_abc")
        );
        assert!(open(&secret, Uuid::new_v4(), &sealed).is_err());
        assert!(open(&ServerSecret::new(vec![8u8; 32]), id, &sealed).is_err());
    }
}
