//! Query-parameter parsing shared by the handlers. Values arrive as strings
//! so that a refusal can always name the parameter at fault.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// For endpoints that take no query parameters: any given is refused.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `limit`: an integer from 1 to `max`, `default` when absent.
pub fn limit(value: Option<&str>, default: i64, max: i64) -> ApiResult<i64> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            "limit",
            format!("must be an integer from 1 to {max}"),
        )),
    }
}

/// A positive integer path segment such as an id.
pub fn positive(name: &str, raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid(name, "must be a positive integer"))
}

pub fn boolean(name: &str, value: Option<&str>) -> ApiResult<Option<bool>> {
    match value {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(name, "must be `true` or `false`")),
    }
}

/// A full RFC 3339 time with an offset, e.g. `2023-11-15T13:59:00+07:00`.
pub fn time(name: &str, value: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(value)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            ApiError::invalid(
                name,
                "must be an RFC 3339 time with an offset, e.g. 2023-11-15T13:59:00+07:00",
            )
        })
}

/// A slug-valued filter; anything that is not a slug cannot match.
pub fn slug<'a>(name: &str, value: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    match value {
        None => Ok(None),
        Some(v) if crate::domain::text::is_slug(v) => Ok(Some(v)),
        Some(_) => Err(ApiError::invalid(
            name,
            "must be a slug: lowercase letters, digits and single hyphens",
        )),
    }
}

/// A slug path segment (`/tags/{slug}`): anything else is a 400, so no
/// stray byte (NUL, say) reaches the database.
pub fn path_slug(name: &str, raw: &str) -> ApiResult<String> {
    slug(name, Some(raw)).map(|_| raw.to_owned())
}

/// A comma-separated list whose every entry is one of `allowed`.
pub fn names(
    name: &str,
    value: Option<&str>,
    allowed: &[&str],
) -> ApiResult<Option<BTreeSet<String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut out = BTreeSet::new();
    for entry in value.split(',').map(str::trim) {
        if !allowed.contains(&entry) {
            return Err(ApiError::invalid(
                name,
                format!(
                    "has an unknown value `{entry}`; allowed: {}",
                    allowed.join(", ")
                ),
            ));
        }
        out.insert(entry.to_owned());
    }
    Ok(Some(out))
}

/// Serialises `value`, keeping only the top-level `fields` when given.
pub fn trimmed<T: Serialize>(value: &T, fields: Option<&BTreeSet<String>>) -> serde_json::Value {
    let mut json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    if let (Some(fields), serde_json::Value::Object(map)) = (fields, &mut json) {
        map.retain(|key, _| fields.contains(key));
    }
    json
}
