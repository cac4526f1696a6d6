//! `newsroom key …`: partner keys from the command line, with the same
//! checks and audit rows as the admin API (the actor is left empty).

use anyhow::{Context, bail};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::store::{self, ApiKey};
use super::{KeyFields, new_secret};
use crate::config::KeyCommand;
use crate::models::audit;

pub async fn run(conn: &mut AsyncPgConnection, command: KeyCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    match command {
        KeyCommand::Create {
            name,
            contact,
            scopes,
            per_minute,
            burst,
            expires,
        } => {
            let fields = KeyFields {
                name: Some(name),
                contact: Some(contact),
                scopes: Some(scopes),
                per_minute,
                burst,
                expires_at: Some(expires),
            }
            .check(now)
            .map_err(|errors| {
                let reasons: Vec<String> = errors
                    .iter()
                    .map(|e| format!("--{}: {}", e.parameter.replace('_', "-"), e.reason))
                    .collect();
                anyhow::anyhow!(reasons.join("; "))
            })?;
            let secret = new_secret();
            let key = conn
                .transaction::<_, anyhow::Error, _>(async |conn| {
                    let key = store::create(conn, &fields, &secret, None).await?;
                    audit::record(conn, None, "create", "api_key", Some(key.id), details(&key))
                        .await?;
                    Ok(key)
                })
                .await
                .context("creating the key")?;
            println!("created API key {}: {}", key.id, describe(&key));
            println!("secret (shown once, keep it safe): {}", secret.secret);
        }
        KeyCommand::List => {
            for key in store::list(conn).await? {
                println!(
                    "{}\tnr_live_{}_…\t{}\t{}",
                    key.id,
                    key.prefix,
                    key.status(now),
                    describe(&key)
                );
            }
        }
        KeyCommand::Rotate { id } => {
            let secret = new_secret();
            let key = conn
                .transaction::<_, anyhow::Error, _>(async |conn| {
                    let Some(key) = store::rotate(conn, id, &secret).await? else {
                        return Ok(None);
                    };
                    audit::record(conn, None, "rotate", "api_key", Some(id), details(&key)).await?;
                    Ok(Some(key))
                })
                .await?;
            let Some(key) = key else {
                bail!("no active key has the id {id} (revoked keys cannot be rotated)");
            };
            println!(
                "new secret for API key {} (shown once; the old one no longer works): {}",
                key.id, secret.secret
            );
        }
        KeyCommand::Revoke { id } => {
            let key = conn
                .transaction::<_, anyhow::Error, _>(async |conn| {
                    let Some(key) = store::revoke(conn, id).await? else {
                        return Ok(None);
                    };
                    audit::record(conn, None, "revoke", "api_key", Some(id), details(&key)).await?;
                    Ok(Some(key))
                })
                .await?;
            if key.is_none() {
                bail!("no key has the id {id}");
            }
            println!("API key {id} is revoked");
        }
    }
    Ok(())
}

/// What the audit log keeps of a key: never its secret or hash.
pub fn details(key: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "name": key.name,
        "scopes": key.scopes.iter().flatten().collect::<Vec<_>>(),
        "per_minute": key.per_minute,
        "burst": key.burst,
        "expires_at": key.expires_at,
        "revoked": key.revoked_at.is_some(),
    })
}

fn describe(key: &ApiKey) -> String {
    let scopes: Vec<&str> = key.scopes().iter().map(|s| s.as_str()).collect();
    let expires = key
        .expires_at
        .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
    format!(
        "{} <{}> [{}] {}/min, burst {}, expires {}",
        key.name,
        key.contact,
        scopes.join(", "),
        key.per_minute,
        key.burst,
        expires
    )
}
