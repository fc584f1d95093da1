//! Password hashing: argon2id with the RustCrypto defaults.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use shared::message::Msg;
use shared::msg;

/// Hashing and checking run on tokio's blocking threads, as many at once as the machine has
/// cores: each takes ~19 MiB and tens of milliseconds of CPU, and on the async workers a flood
/// of logins (a wrong password costs as much as a right one, an unknown name too) would stall
/// every push, pull and poke of everyone else.
static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// How long a request waits for a slot before it is told to come back (429, Retry-After).
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `work` (a hash or a check) off the async workers, in one of the [`SLOTS`].
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    use crate::error::ApiError;
    let busy = || ApiError::TooManyRequests(1);
    let _slot = tokio::time::timeout(SLOT_WAIT, SLOTS.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing: {e}")))
}

/// [`verify`] off the async workers.
pub async fn verify_off_thread(
    password: &str,
    stored: Option<&str>,
) -> Result<bool, crate::error::ApiError> {
    let (password, stored) = (password.to_string(), stored.map(str::to_string));
    off_thread(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => verify_dummy(&password),
    })
    .await
}

/// [`hash`] off the async workers.
pub async fn hash_off_thread(password: &str) -> Result<String, crate::error::ApiError> {
    let password = password.to_string();
    off_thread(move || hash(&password))
        .await?
        .map_err(crate::error::ApiError::Internal)
}

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;

/// Hashes `password` with a fresh salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Spends the same time as a real check, for logins with an unknown username, so response times
/// don't reveal which usernames exist; never matches. The hash is of a random string nobody
/// kept, made once with the same parameters as every stored hash (a test checks that).
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, DUMMY_HASH);
    false
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$fgvGnUI7IaE2c5zUyqwoDg$Ky2dSjkdPZcCE0UWojp1I5Y0fpi3dfqbp5pMWvMO7Pk";

/// Why a new password is refused, if it is.
pub fn check_new(password: &str) -> Result<(), Msg> {
    if password.chars().count() < MIN_LEN {
        return Err(msg!(
            "密码至少{n}位",
            "A password has at least {n} characters",
            n = MIN_LEN
        ));
    }
    if password.len() > 256 {
        return Err(Msg::new("密码过长", "The password is too long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() -> anyhow::Result<()> {
        let a = hash("correct horse")?;
        let b = hash("correct horse")?;
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse", &a));
        assert!(!verify("wrong horse", &a));
        assert!(!verify("x", "not a hash"));
        Ok(())
    }

    #[test]
    fn dummy_hash_costs_what_a_real_one_does() -> anyhow::Result<()> {
        let real = hash("anything")?;
        let params = |h: &str| h.split('$').nth(3).map(String::from);
        assert_eq!(params(DUMMY_HASH), params(&real), "{real}");
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_dummy("anything"));
        Ok(())
    }
}
