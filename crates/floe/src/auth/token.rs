//! Polar's token format: a prefix, 37 random alphanumerics from the OS RNG, and a 6-char
//! base62 CRC32 of those 37, so a mistyped token is refused without a database lookup.

use rand::TryRngCore;
use rand::distr::{Alphanumeric, Distribution};

pub const ORGANIZATION_ACCESS_TOKEN_PREFIX: &str = "polar_oat_";

const RANDOM_LEN: usize = 37;
const CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token in clear, shown once at creation; its `Debug` never shows it.
pub struct SecretToken(String);

impl SecretToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(..)")
    }
}

/// A new random token with `prefix`.
pub fn generate(prefix: &str) -> SecretToken {
    let mut rng = rand::rngs::OsRng.unwrap_err();
    let random: String = Alphanumeric
        .sample_iter(&mut rng)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    let checksum = checksum(&random);
    SecretToken(format!("{prefix}{random}{checksum}"))
}

/// Whether `token` has `prefix`, the right length, only alphanumerics and a valid checksum.
pub fn is_well_formed(token: &str, prefix: &str) -> bool {
    let Some(body) = token.strip_prefix(prefix) else {
        return false;
    };
    if body.len() != RANDOM_LEN + CHECKSUM_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = body.split_at(RANDOM_LEN);
    checksum(random) == check
}

fn checksum(random: &str) -> String {
    let mut number = crc32fast::hash(random.as_bytes());
    let mut digits = Vec::with_capacity(CHECKSUM_LEN);
    while number > 0 {
        digits.push(BASE62[(number % 62) as usize]);
        number /= 62;
    }
    while digits.len() < CHECKSUM_LEN {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_unique() {
        let a = generate(ORGANIZATION_ACCESS_TOKEN_PREFIX);
        let b = generate(ORGANIZATION_ACCESS_TOKEN_PREFIX);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(
            a.expose().len(),
            ORGANIZATION_ACCESS_TOKEN_PREFIX.len() + 43
        );
        assert!(is_well_formed(a.expose(), ORGANIZATION_ACCESS_TOKEN_PREFIX));
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let token = generate(ORGANIZATION_ACCESS_TOKEN_PREFIX);
        let mut chars: Vec<char> = token.expose().chars().collect();
        let i = ORGANIZATION_ACCESS_TOKEN_PREFIX.len() + 3;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let tampered: String = chars.into_iter().collect();
        assert!(!is_well_formed(&tampered, ORGANIZATION_ACCESS_TOKEN_PREFIX));
        assert!(!is_well_formed(token.expose(), "polar_pat_"));
    }

    #[test]
    fn checksum_matches_polars_base62_crc32() {
        // Computed with Python as Polar does: zlib.crc32(b"a" * 37) and its base62, zfill(6).
        assert_eq!(crc32fast::hash(&[b'a'; 37]), 2_635_688_867);
        assert_eq!(checksum(&"a".repeat(37)), "2sN54l");
    }
}
