//! The server secret: the HMAC key under which access tokens are hashed at rest and
//! presigned URLs are signed. It comes from `FLOE_SECRET`, or is generated once into the
//! data dir (mode 0600). Every instance sharing a database must share it.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use sha2::Sha256;

const FILE_NAME: &str = "secret";

/// The key itself; its `Debug` never shows it.
#[derive(Clone)]
pub struct ServerSecret(Arc<Vec<u8>>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(key.into()))
    }

    /// `FLOE_SECRET` if set, else the data dir's secret file, created on first use.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        if let Ok(value) = std::env::var("FLOE_SECRET")
            && !value.is_empty()
        {
            return Ok(Self::new(value.into_bytes()));
        }
        let path = data_dir.join(FILE_NAME);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(Self::new(existing.trim().as_bytes().to_vec()));
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .context("reading the OS random number generator")?;
        let encoded = hex::encode(key);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(encoded.as_bytes())?;
                file.sync_all()?;
                Ok(Self::new(encoded.into_bytes()))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let existing = std::fs::read_to_string(&path)?;
                Ok(Self::new(existing.trim().as_bytes().to_vec()))
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// HMAC-SHA256 of `message` under this secret, with a purpose label so that a value
    /// signed for one use can never be replayed as another.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a signature made by [`Self::sign`].
    pub fn verify(&self, purpose: &str, message: &[u8], signature: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message);
        mac.verify_slice(signature).is_ok()
    }

    /// HMAC-SHA256 of a token, hex-encoded: the only form of a token floe stores.
    pub fn token_hash(&self, token: &str) -> String {
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC key of any length")
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(std::env::var("FLOE_SECRET").is_err());
        let first = ServerSecret::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = ServerSecret::load_or_create(dir.path()).unwrap();
        assert_eq!(first.token_hash("t"), second.token_hash("t"));
        assert!(!format!("{first:?}").contains(&hex::encode(&*first.0)));
    }

    #[test]
    fn signatures_depend_on_purpose_and_message() {
        let secret = ServerSecret::new(b"k".to_vec());
        let signature = secret.sign("a", b"m");
        assert!(secret.verify("a", b"m", &signature));
        assert!(!secret.verify("b", b"m", &signature));
        assert!(!secret.verify("a", b"n", &signature));
        assert!(!ServerSecret::new(b"other".to_vec()).verify("a", b"m", &signature));
    }
}
