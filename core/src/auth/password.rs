//! Password rules and hashing: Argon2id with OWASP's parameters (19 MiB of memory, two
//! passes, one lane), run on the blocking pool behind a semaphore sized to the cores.
//!
//! A hash takes tens of milliseconds of one core. Run on the async workers, a burst of
//! logins would stall every other request; run on unbounded blocking threads, it would
//! take every core. The semaphore lets as many hashes run as there are cores, queues the
//! rest, and leaves the async workers free.
//!
//! Common passwords are recognised with the password list shipped by the `zxcvbn` crate
//! (the 30,000 most frequent passwords of Xato's corpus, as Dropbox's zxcvbn publishes
//! it), with case, leet-speak and reversal variants.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::secret::Secret;
use crate::{Error, Result};

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have (bounds hashing work per request).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// OWASP's Argon2id recommendation: memory in KiB, passes, lanes.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Checks a new password: 8 to 128 characters, and not a common password.
///
/// ```
/// use bugdash::auth::validate_password;
/// use bugdash::secret::Secret;
/// assert!(validate_password(&Secret::new("short")).is_err());
/// assert!(validate_password(&Secret::new("Password1")).is_err());
/// assert!(validate_password(&Secret::new("lantern-quarry-velvet-42")).is_ok());
/// ```
pub fn validate_password(password: &Secret) -> Result<()> {
    let chars = password.expose().chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(Error::invalid(
            "password",
            format!(
                "must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long \
                 (it has {chars})"
            ),
        ));
    }
    if is_common(password.expose()) {
        return Err(Error::invalid(
            "password",
            "is among the most common passwords; choose one that is not",
        ));
    }
    Ok(())
}

/// True when the whole password is one entry of the common-password list, give or take
/// case, leet-speak substitutions and reversal.
fn is_common(password: &str) -> bool {
    let entropy = zxcvbn::zxcvbn(password, &[]);
    let [single] = entropy.sequence() else { return false };
    let covers_all = single.i == 0 && single.j + 1 == password.chars().count();
    // The crate does not export the name of its dictionary type, only its Debug form.
    covers_all
        && matches!(&single.pattern, zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
            if format!("{:?}", d.dictionary_name) == "Passwords")
}

/// Hashes and verifies passwords on the bounded blocking pool.
#[derive(Clone)]
pub(crate) struct Hasher {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").field("permits", &self.permits.available_permits()).finish()
    }
}

impl Hasher {
    /// A hasher running as many hashes at once as the machine has cores.
    pub(crate) fn new() -> Result<Self> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|e| Error::Internal(format!("Argon2 refused its parameters: {e}")))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Hasher {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(cores)),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("the password hashing pool is closed".into()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || work(&argon))
            .await
            .map_err(|e| Error::Internal(format!("a password hashing task failed: {e}")))
    }

    /// The PHC string of a fresh Argon2id hash of `password` with a random salt.
    pub(crate) async fn hash(&self, password: &Secret) -> Result<String> {
        let password = password.clone();
        let salt_bytes: [u8; 16] = rand::random();
        self.run(move |argon| {
            let salt = SaltString::encode_b64(&salt_bytes)
                .map_err(|e| Error::Internal(format!("cannot encode a salt: {e}")))?;
            argon
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| Error::Internal(format!("Argon2 failed to hash: {e}")))
        })
        .await?
    }

    /// Whether `password` matches the PHC string `hash` (false for an unreadable hash).
    pub(crate) async fn verify(&self, password: &Secret, hash: &str) -> Result<bool> {
        let (password, hash) = (password.clone(), hash.to_owned());
        self.run(move |argon| {
            let Ok(parsed) = PasswordHash::new(&hash) else { return false };
            argon.verify_password(password.expose().as_bytes(), &parsed).is_ok()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_count_characters_not_bytes() {
        assert!(validate_password(&Secret::new("ääääääää-x9")).is_ok());
        assert!(validate_password(&Secret::new("äöü-1x")).is_err());
        assert!(validate_password(&Secret::new("k".repeat(129))).is_err());
        assert!(validate_password(&Secret::new("lk-".repeat(42) + "xy")).is_ok());
    }

    #[test]
    fn common_passwords_and_their_disguises_are_refused() {
        for common in ["password", "PASSWORD1", "p@ssw0rd", "12345678", "qwertyuiop", "drowssap"] {
            let error = validate_password(&Secret::new(common)).unwrap_err().to_string();
            assert!(error.contains("common"), "{common}: {error}");
        }
        assert!(validate_password(&Secret::new("correct horse battery staple")).is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new().unwrap();
        let hash = hasher.hash(&Secret::new("lantern-quarry")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify(&Secret::new("lantern-quarry"), &hash).await.unwrap());
        assert!(!hasher.verify(&Secret::new("lantern-quarrz"), &hash).await.unwrap());
        assert!(!hasher.verify(&Secret::new("x"), "not a hash").await.unwrap());
    }
}
