//! Partner API keys: what a key is allowed (its scopes and limit), how its
//! secret looks and is checked, and the rules its fields follow. Stored by
//! [`store`], counted by [`usage`], managed over HTTP (`api::admin_keys`)
//! and from the command line ([`cli`]); checked on every public request by
//! `http::ratelimit`.

pub mod cli;
pub mod store;
pub mod usage;

use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::ParameterError;

/// What every secret starts with, so secret scanners (and people) can tell
/// a leaked key at a glance.
pub const SECRET_PREFIX: &str = "nr_live_";

/// Length of the public lookup prefix (base32: 40 bits, unique per key).
const LOOKUP_LEN: usize = 8;
/// Length of the random part (base62: 43 characters carry 256 bits).
const RANDOM_LEN: usize = 43;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Limits given to a new key when none are asked for.
pub const DEFAULT_PER_MINUTE: i32 = 1200;
pub const DEFAULT_BURST: i32 = 120;
pub const MAX_PER_MINUTE: i64 = 60_000_000;
pub const MAX_BURST: i64 = 100_000;
pub const MAX_NAME: usize = 200;
pub const MAX_CONTACT: usize = 320;

/// What a key may do. Every key reads the public API; `full_text` also
/// gets full article bodies where others get excerpts (feeds and lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Read,
    FullText,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::FullText];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::FullText => "full_text",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The partner behind a request, in its extensions
/// (`req.extensions().get::<Partner>()`) on every public request made with
/// a valid key; absent for anonymous readers and staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The key's id (`/api/v1/admin/keys/{id}`).
    pub id: i64,
    pub scopes: Vec<Scope>,
}

impl Partner {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether full article text may be sent where anonymous readers get
    /// excerpts.
    pub fn full_text(&self) -> bool {
        self.has(Scope::FullText)
    }
}

/// A new secret, shown once; only `hash` is kept, found by `lookup`.
pub struct NewSecret {
    pub secret: String,
    pub lookup: String,
    pub hash: [u8; 32],
}

/// `nr_live_<8 base32>_<43 base62>`: 256 random bits behind a public prefix.
pub fn new_secret() -> NewSecret {
    let mut rng = rand::rng();
    let lookup: String = (0..LOOKUP_LEN)
        .map(|_| BASE32[rng.random_range(0..BASE32.len())] as char)
        .collect();
    let random: String = (&mut rng)
        .sample_iter(rand::distr::Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    let secret = format!("{SECRET_PREFIX}{lookup}_{random}");
    NewSecret {
        hash: hash(&secret),
        secret,
        lookup,
    }
}

/// The lookup prefix of a well-formed secret; `None` for anything else.
pub fn lookup_of(secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix(SECRET_PREFIX)?;
    let (lookup, random) = rest.split_once('_')?;
    let well_formed = lookup.len() == LOOKUP_LEN
        && lookup.bytes().all(|b| BASE32.contains(&b))
        && random.len() == RANDOM_LEN
        && random.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(lookup)
}

/// SHA-256 of the whole secret: the secret is random, so a fast hash is
/// enough (nothing to brute-force short of 2^256 guesses).
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
pub fn same_hash(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A key's fields as given, checked together; what the admin API and the
/// CLI both accept.
#[derive(Debug, Default, Clone)]
pub struct KeyFields {
    pub name: Option<String>,
    pub contact: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub per_minute: Option<i64>,
    pub burst: Option<i64>,
    /// `Some(None)` clears the expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// Checked fields, ready to store.
#[derive(Debug, Default, Clone)]
pub struct CheckedFields {
    pub name: Option<String>,
    pub contact: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    pub per_minute: Option<i32>,
    pub burst: Option<i32>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl KeyFields {
    /// Every field at fault at once; nothing is stored unless all pass.
    pub fn check(self, now: DateTime<Utc>) -> Result<CheckedFields, Vec<ParameterError>> {
        let mut errors = Vec::new();
        let mut fault = |parameter: &str, reason: &str| {
            errors.push(ParameterError {
                parameter: parameter.into(),
                reason: reason.into(),
            })
        };
        let name = self.name.map(|n| n.trim().to_owned());
        if let Some(n) = &name
            && (n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control))
        {
            fault(
                "name",
                "must be 1 to 200 characters, without control characters",
            );
        }
        let contact = self.contact.map(|c| c.trim().to_owned());
        if let Some(c) = &contact
            && (c.chars().count() > MAX_CONTACT || c.chars().any(char::is_control))
        {
            fault(
                "contact",
                "must be at most 320 characters, without control characters",
            );
        }
        let scopes = match self.scopes {
            None => None,
            Some(given) => {
                let mut scopes = Vec::new();
                for s in &given {
                    match Scope::parse(s) {
                        Some(scope) if !scopes.contains(&scope) => scopes.push(scope),
                        Some(_) => {}
                        None => {
                            fault("scopes", "may hold only `read` and `full_text`");
                            break;
                        }
                    }
                }
                // Every key reads: `read` is implied.
                if !scopes.contains(&Scope::Read) {
                    scopes.insert(0, Scope::Read);
                }
                scopes.sort_by_key(|s| Scope::ALL.iter().position(|a| a == s));
                Some(scopes)
            }
        };
        let per_minute = self.per_minute.and_then(|n| {
            let ok = (1..=MAX_PER_MINUTE).contains(&n);
            if !ok {
                fault("per_minute", "must be an integer from 1 to 60000000");
            }
            ok.then_some(n as i32)
        });
        let burst = self.burst.and_then(|n| {
            let ok = (1..=MAX_BURST).contains(&n);
            if !ok {
                fault("burst", "must be an integer from 1 to 100000");
            }
            ok.then_some(n as i32)
        });
        if let Some(Some(at)) = self.expires_at {
            if at <= now {
                fault("expires_at", "must be in the future");
            } else if at > now + chrono::Duration::days(3660) {
                fault("expires_at", "must be within ten years");
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckedFields {
            name,
            contact,
            scopes,
            per_minute,
            burst,
            expires_at: self.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape_and_are_found_by_their_prefix() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("nr_live_"));
        assert_eq!(a.secret.len(), 8 + 8 + 1 + 43);
        assert_eq!(lookup_of(&a.secret), Some(a.lookup.as_str()));
        assert_eq!(hash(&a.secret), a.hash);
        assert!(same_hash(&a.hash, &hash(&a.secret)));
        assert!(!same_hash(&a.hash, &b.hash));
        for bad in [
            "",
            "nr_live_",
            "nr_test_abcdefgh_x",
            &a.secret[..a.secret.len() - 1],
            &format!("{}!", &a.secret[..a.secret.len() - 1]),
            &a.secret.replace("nr_live_", "nr_live_A"),
        ] {
            assert_eq!(lookup_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn fields_are_checked_together() {
        let now = Utc::now();
        let errors = KeyFields {
            name: Some(" ".into()),
            scopes: Some(vec!["full_text".into(), "write".into()]),
            per_minute: Some(-5),
            burst: Some(0),
            expires_at: Some(Some(now - chrono::Duration::days(1))),
            ..KeyFields::default()
        }
        .check(now)
        .unwrap_err();
        let names: Vec<_> = errors.iter().map(|e| e.parameter.as_str()).collect();
        assert_eq!(
            names,
            ["name", "scopes", "per_minute", "burst", "expires_at"]
        );
        let ok = KeyFields {
            name: Some(" Báo Mới ".into()),
            scopes: Some(vec!["full_text".into(), "full_text".into()]),
            ..KeyFields::default()
        }
        .check(now)
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("Báo Mới"));
        assert_eq!(ok.scopes, Some(vec![Scope::Read, Scope::FullText]));
    }
}
