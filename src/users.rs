//! `newsroom user …`: staff accounts from the command line.

use std::io::{IsTerminal, Read};

use anyhow::{Context, bail};
use diesel_async::AsyncPgConnection;

use crate::auth;
use crate::config::UserCommand;
use crate::models::staff::{self, NewStaffUser};

pub async fn run(conn: &mut AsyncPgConnection, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email, role, name } => {
            let email = email.trim().to_lowercase();
            let (password, generated) = read_password()?;
            let hash = auth::hash_password(&password)?;
            let display_name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("staff").to_owned());
            let id = staff::create(
                conn,
                NewStaffUser {
                    email: &email,
                    display_name: &display_name,
                    role: &role,
                    author_id: None,
                    password_hash: &hash,
                },
            )
            .await
            .with_context(|| format!("creating {email} (is the address valid and unused?)"))?;
            println!("created staff user {id}: {email} ({role})");
            if generated {
                println!("generated password: {password}");
            }
        }
        UserCommand::List => {
            for user in staff::list(conn).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.email,
                    user.role,
                    if user.active { "active" } else { "disabled" },
                    user.display_name
                );
            }
        }
        UserCommand::SetRole { email, role } => {
            if staff::set_role(conn, &email, &role).await? == 0 {
                bail!("no staff user has the email {email}");
            }
            println!("{email} is now {role}");
        }
        UserCommand::Disable { email } => {
            if staff::disable(conn, &email).await? == 0 {
                bail!("no staff user has the email {email}");
            }
            println!("{email} is disabled and signed out");
        }
    }
    Ok(())
}

/// The password from standard input, or a generated one.
fn read_password() -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut input = String::new();
        stdin.lock().read_to_string(&mut input)?;
        let password = input.trim_end_matches(['\n', '\r']).to_owned();
        if !password.is_empty() {
            if password.chars().count() < 12 {
                bail!("the password must be at least 12 characters");
            }
            return Ok((password, false));
        }
    }
    Ok((auth::generate_password(), true))
}
