//! A private PostgreSQL cluster, created and started from the server binaries
//! already on the machine, so that `newsroom` and its tests need no set-up.
//!
//! The cluster listens on a free loopback port with trust authentication and
//! no Unix socket. A second process pointed at the same data folder while the
//! first one runs attaches to it instead of starting another postmaster.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// Where the PostgreSQL server binaries were found, and how to run them.
#[derive(Debug, Clone)]
struct Binaries {
    bindir: PathBuf,
    /// `initdb` and `postgres` refuse to run as root: run them as this user.
    run_as: Option<String>,
}

/// A running cluster. Stopped on [`EmbeddedPostgres::stop`] (or drop) only
/// when this process started it.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    binaries: Binaries,
    data_dir: PathBuf,
    port: u16,
    owned: bool,
}

/// Tuning for throwaway clusters (tests): no durability at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterOptions {
    pub ephemeral: bool,
}

const MISSING_BINARIES: &str = "No PostgreSQL server binaries were found (looked for `pg_config --bindir`, \
$PG_BINDIR and /usr/lib/postgresql/*/bin). Newsroom runs its own private PostgreSQL cluster when \
DATABASE_URL is not set, and needs the server programs `initdb`, `pg_ctl` and `postgres` for that. \
Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
macOS: `brew install postgresql@15`), or set DATABASE_URL=postgres://user:password@host/dbname \
to use a PostgreSQL server you already run.";

impl EmbeddedPostgres {
    /// Starts (creating if needed) the cluster in `data_dir`, or attaches to
    /// the one already running there.
    pub fn start(data_dir: &Path, options: ClusterOptions) -> anyhow::Result<Self> {
        let binaries = Binaries::find()?;
        let data_dir = binaries.usable_data_dir(data_dir)?;
        if let Some(port) = running_port(&data_dir) {
            log::info!(
                "attaching to the PostgreSQL cluster already running in {} on port {port}",
                data_dir.display()
            );
            return Ok(Self {
                binaries,
                data_dir,
                port,
                owned: false,
            });
        }
        if !data_dir.join("PG_VERSION").exists() {
            binaries.initdb(&data_dir)?;
        }
        // A crashed earlier run leaves postmaster.pid behind; nothing answers
        // on its port (checked above), so it is stale.
        let _ = std::fs::remove_file(data_dir.join("postmaster.pid"));
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            match binaries.pg_ctl_start(&data_dir, port, options) {
                Ok(()) => {
                    log::info!(
                        "started a private PostgreSQL cluster in {} on 127.0.0.1:{port}",
                        data_dir.display()
                    );
                    return Ok(Self {
                        binaries,
                        data_dir,
                        port,
                        owned: true,
                    });
                }
                Err(error) => {
                    // Another process may have started it at the same time.
                    if let Some(port) = running_port(&data_dir) {
                        return Ok(Self {
                            binaries,
                            data_dir,
                            port,
                            owned: false,
                        });
                    }
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.expect("three attempts were made"))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops whatever postmaster runs in `data_dir`, e.g. one left behind by
    /// a process that died. Errors are ignored: there may be none.
    pub fn stop_abandoned(data_dir: &Path) {
        if let Ok(binaries) = Binaries::find() {
            let _ = binaries
                .command("pg_ctl")
                .args(["stop", "-w", "-m", "immediate", "-D"])
                .arg(data_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Stops the cluster if this process started it.
    pub fn stop(&mut self) {
        if !self.owned {
            return;
        }
        self.owned = false;
        let status = self
            .binaries
            .command("pg_ctl")
            .args(["stop", "-w", "-m", "fast", "-D"])
            .arg(&self.data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => log::info!("stopped the private PostgreSQL cluster"),
            other => log::warn!("stopping the private PostgreSQL cluster failed: {other:?}"),
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Binaries {
    fn find() -> anyhow::Result<Self> {
        let bindir = find_bindir().context(MISSING_BINARIES)?;
        let run_as = if is_root() {
            Some("postgres".to_owned())
        } else {
            None
        };
        if run_as.is_some() && !user_exists("postgres") {
            bail!(
                "Running as root, but PostgreSQL refuses to run as root and there is no `postgres` \
                 user to run it as. Run newsroom as an ordinary user, create a `postgres` user \
                 (`useradd --system postgres`), or set DATABASE_URL to an existing server."
            );
        }
        Ok(Self { bindir, run_as })
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    /// The data folder, created and owned by whoever runs PostgreSQL. When
    /// running as root and the `postgres` user cannot reach `wanted` (say it
    /// lies under /root), a folder under the system temp dir is used instead.
    fn usable_data_dir(&self, wanted: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(wanted)
            .with_context(|| format!("creating {}", wanted.display()))?;
        let wanted = wanted.canonicalize()?;
        let Some(user) = &self.run_as else {
            return Ok(wanted);
        };
        chown(&wanted, user)?;
        if self.user_can_write(&wanted) {
            return Ok(wanted);
        }
        let fallback = std::env::temp_dir().join(format!(
            "newsroom-pg-{:016x}",
            stable_hash(wanted.to_string_lossy().as_bytes())
        ));
        log::warn!(
            "the `{user}` user cannot reach {}; keeping the cluster in {} instead",
            wanted.display(),
            fallback.display()
        );
        std::fs::create_dir_all(&fallback)?;
        chown(&fallback, user)?;
        Ok(fallback)
    }

    fn user_can_write(&self, dir: &Path) -> bool {
        let Some(user) = &self.run_as else {
            return true;
        };
        Command::new("runuser")
            .args(["-u", user, "--", "test", "-w"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn initdb(&self, data_dir: &Path) -> anyhow::Result<()> {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(data_dir)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .output()
            .context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed for {}:\n{}",
                data_dir.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn pg_ctl_start(
        &self,
        data_dir: &Path,
        port: u16,
        options: ClusterOptions,
    ) -> anyhow::Result<()> {
        let mut settings = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
             -c max_connections=200 -c shared_buffers=256MB"
        );
        if options.ephemeral {
            settings.push_str(
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                 -c autovacuum=off",
            );
        }
        let output = self
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(data_dir)
            .arg("-l")
            .arg(data_dir.join("server.log"))
            .args(["-o", &settings])
            .stdout(Stdio::null())
            .output()
            .context("running pg_ctl start")?;
        if !output.status.success() {
            let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            bail!(
                "pg_ctl start failed: {}\n{}",
                String::from_utf8_lossy(&output.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }
}

fn find_bindir() -> anyhow::Result<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BINDIR").map(PathBuf::from)
        && has_server(&dir)
    {
        return Ok(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    // Debian keeps the server binaries off PATH, one folder per major version.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    let candidates = versions.into_iter().rev().map(|(_, dir)| dir).chain(
        ["/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"]
            .into_iter()
            .map(PathBuf::from),
    );
    for dir in candidates {
        if has_server(&dir) {
            return Ok(dir);
        }
    }
    bail!("no PostgreSQL server binaries")
}

/// The port of a postmaster that runs in `data_dir` and answers on it.
fn running_port(data_dir: &Path) -> Option<u16> {
    let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    // Line 4 of postmaster.pid is the port.
    let port: u16 = pid_file.lines().nth(3)?.trim().parse().ok()?;
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    TcpStream::connect_timeout(&addr.into(), Duration::from_millis(500)).ok()?;
    Some(port)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn chown(dir: &Path, user: &str) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(dir)
        .status()
        .context("running chown")?;
    if !status.success() {
        bail!("chown {user} {} failed", dir.display());
    }
    Ok(())
}

/// FNV-1a: a name for a folder that is the same on every run.
fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3)
    })
}
