//! Opaque keyset-pagination cursors: the sort key of the last item of a page.
//!
//! A cursor names the sort order it was issued for, so one taken from a
//! `-published_at` walk cannot be replayed against `published_at`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Which list and order it was issued for, e.g. `a-pub` for articles newest first.
    pub scope: &'static str,
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    pub fn new(scope: &'static str, at: DateTime<Utc>, id: i64) -> Self {
        Self { scope, at, id }
    }

    pub fn encode(&self) -> String {
        pack(
            self.scope,
            &format!("{}|{}", self.at.timestamp_micros(), self.id),
        )
    }

    /// Decodes `text`, which must have been issued for `scope`.
    pub fn decode(text: &str, scope: &'static str) -> Result<Self, ApiError> {
        let key = unpack(text, scope)?;
        let (micros, id) = key.split_once('|').ok_or(ApiError::InvalidCursor)?;
        let micros: i64 = micros.parse().map_err(|_| ApiError::InvalidCursor)?;
        let at = DateTime::from_timestamp_micros(micros).ok_or(ApiError::InvalidCursor)?;
        let id: i64 = id.parse().map_err(|_| ApiError::InvalidCursor)?;
        let cursor = Self { scope, at, id };
        // One spelling per position: `+5`, `007` and `-0` parse too.
        if cursor.encode() != text {
            return Err(ApiError::InvalidCursor);
        }
        Ok(cursor)
    }
}

/// A cursor over a list ordered by a unique text key (a slug).
pub fn encode_key(scope: &str, key: &str) -> String {
    pack(scope, key)
}

pub fn decode_key(text: &str, scope: &str) -> Result<String, ApiError> {
    unpack(text, scope)
}

fn pack(scope: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("1|{scope}|{key}"))
}

fn unpack(text: &str, scope: &str) -> Result<String, ApiError> {
    if text.is_empty() || text.len() > 400 {
        return Err(ApiError::InvalidCursor);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| ApiError::InvalidCursor)?;
    let raw = String::from_utf8(raw).map_err(|_| ApiError::InvalidCursor)?;
    let rest = raw
        .strip_prefix("1|")
        .and_then(|r| r.strip_prefix(scope))
        .and_then(|r| r.strip_prefix('|'))
        .ok_or(ApiError::InvalidCursor)?;
    // We never issue control characters; PostgreSQL refuses NUL outright.
    if rest.chars().any(char::is_control) {
        return Err(ApiError::InvalidCursor);
    }
    Ok(rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_scopes_and_garbage() {
        let at = DateTime::from_timestamp_micros(1_700_031_540_123_456).unwrap();
        let cursor = Cursor::new("a-pub", at, 42);
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text, "a-pub").unwrap(), cursor);
        assert!(Cursor::decode(&text, "a-upd").is_err());
        assert!(Cursor::decode(&text, "a-pu").is_err());
        assert_eq!(
            decode_key(&encode_key("tags", "binh-dang-gioi"), "tags").unwrap(),
            "binh-dang-gioi"
        );
        assert!(decode_key(&encode_key("tags", "x"), "authors").is_err());
        for bad in ["", "!!!", "bm9wZQ", &"A".repeat(300)] {
            assert!(Cursor::decode(bad, "a-pub").is_err(), "{bad}");
        }
    }
}
