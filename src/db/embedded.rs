//! A private PostgreSQL cluster, created and started from the server binaries
//! already on the machine, so that `newsroom` and its tests need no set-up.
//!
//! The cluster listens on a free loopback port, with no Unix socket, and
//! asks for a password (SCRAM) from everyone: the superuser's and the
//! application role's passwords are random, kept in `newsroom.credentials`
//! (mode 0600) inside the data folder, which only the cluster's owner can
//! read. The application connects as `newsroom`, which owns its database
//! and is not a superuser. A second process pointed at the same data folder
//! while the first one runs attaches to it, after checking that the
//! running postmaster belongs to the cluster's owner.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
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
    credentials: Credentials,
}

/// The role the application connects as.
pub const APP_ROLE: &str = "newsroom";

/// The random passwords of a cluster, kept in its data folder.
#[derive(Clone)]
struct Credentials {
    superuser: String,
    app: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

const CREDENTIALS_FILE: &str = "newsroom.credentials";

impl Credentials {
    fn generate() -> Self {
        Self {
            superuser: crate::auth::generate_password(),
            app: crate::auth::generate_password(),
        }
    }

    fn read(data_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(data_dir.join(CREDENTIALS_FILE)).ok()?;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
        };
        Some(Self {
            superuser: value("superuser")?,
            app: value("app")?,
        })
    }

    fn write(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        writeln!(file, "superuser={}\napp={}", self.superuser, self.app)?;
        Ok(())
    }
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
        let owner = binaries.owner_uid()?;
        if data_dir.join("PG_VERSION").exists() && Credentials::read(&data_dir).is_none() {
            set_aside_legacy_cluster(&binaries, &data_dir)?;
        }
        if !data_dir.join("PG_VERSION").exists() {
            binaries.initdb(&data_dir)?;
        }
        let credentials = Credentials::read(&data_dir)
            .with_context(|| format!("reading {CREDENTIALS_FILE} in {}", data_dir.display()))?;
        if let Some(port) = running_port(&data_dir, owner) {
            log::info!(
                "attaching to the PostgreSQL cluster already running in {} on port {port}",
                data_dir.display()
            );
            return Ok(Self {
                binaries,
                data_dir,
                port,
                owned: false,
                credentials,
            });
        }
        // A crashed earlier run leaves postmaster.pid behind; no postmaster
        // of the owner runs for it (checked above), so it is stale.
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
                        credentials,
                    });
                }
                Err(error) => {
                    // Another process may have started it at the same time.
                    if let Some(port) = running_port(&data_dir, owner) {
                        return Ok(Self {
                            binaries,
                            data_dir,
                            port,
                            owned: false,
                            credentials,
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

    /// A connection URL for `database` as the application role.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{APP_ROLE}:{}@127.0.0.1:{}/{database}",
            self.credentials.app, self.port
        )
    }

    /// A connection URL for `database` as the superuser, for creating the
    /// application role and databases (never handed to the application).
    pub fn admin_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.credentials.superuser, self.port
        )
    }

    /// The application role's password, to be set on the role.
    pub fn app_password(&self) -> &str {
        &self.credentials.app
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

    /// The user id that owns the cluster: the `postgres` user when running
    /// as root, else ourselves.
    fn owner_uid(&self) -> anyhow::Result<u32> {
        match &self.run_as {
            Some(user) => user_uid(user),
            None => Ok(std::fs::metadata("/proc/self")?.uid()),
        }
    }

    /// The data folder, owned by whoever runs PostgreSQL and reachable by
    /// nobody else. A folder someone else owns is refused, never taken over.
    /// When running as root and the `postgres` user cannot reach `wanted`
    /// (say it lies under /root), the cluster lives in a folder with an
    /// unpredictable name under the system temp dir, created afresh (so
    /// nobody can have planted it), and `wanted` records where.
    fn usable_data_dir(&self, wanted: &Path) -> anyhow::Result<PathBuf> {
        let owner = self.owner_uid()?;
        if !wanted.exists() {
            if let Some(parent) = wanted.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::create_dir(wanted)
                .with_context(|| format!("creating {}", wanted.display()))?;
            std::fs::set_permissions(wanted, std::fs::Permissions::from_mode(0o700))?;
            if let Some(user) = &self.run_as {
                chown(wanted, user)?;
            }
        }
        let wanted = wanted.canonicalize()?;
        check_private(&wanted, owner)?;
        if self.user_can_write(&wanted) {
            return Ok(wanted);
        }
        let Some(user) = &self.run_as else {
            return Ok(wanted);
        };
        let record = wanted.join(FALLBACK_RECORD);
        if let Ok(path) = std::fs::read_to_string(&record) {
            let fallback = PathBuf::from(path.trim());
            if check_private(&fallback, owner).is_ok() {
                return Ok(fallback);
            }
            log::warn!(
                "ignoring {}: {} is not a private folder of `{user}`",
                record.display(),
                fallback.display()
            );
        }
        let fallback = std::env::temp_dir().join(format!(
            "newsroom-pg-{}",
            &crate::auth::new_opaque_token().1[..32]
        ));
        // create_dir fails if the name exists: nothing planted is followed.
        std::fs::create_dir(&fallback)
            .with_context(|| format!("creating {}", fallback.display()))?;
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o700))?;
        chown(&fallback, user)?;
        std::fs::write(&record, fallback.to_string_lossy().as_bytes())?;
        log::warn!(
            "the `{user}` user cannot reach {}; keeping the cluster in {} instead",
            wanted.display(),
            fallback.display()
        );
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

    /// A new cluster whose superuser has a random password and where every
    /// connection must give one.
    fn initdb(&self, data_dir: &Path) -> anyhow::Result<()> {
        let credentials = Credentials::generate();
        // initdb wants an empty folder: the password file waits outside, in
        // a private folder of its own.
        let scratch = std::env::temp_dir().join(format!(
            "newsroom-initdb-{}",
            &crate::auth::new_opaque_token().1[..32]
        ));
        std::fs::create_dir(&scratch)?;
        std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o700))?;
        let pwfile = scratch.join("pw");
        std::fs::write(&pwfile, format!("{}\n", credentials.superuser))?;
        if let Some(user) = &self.run_as {
            chown(&scratch, user)?;
            chown(&pwfile, user)?;
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(data_dir)
            .args([
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .context("running initdb");
        let _ = std::fs::remove_dir_all(&scratch);
        let output = output?;
        if !output.status.success() {
            bail!(
                "initdb failed for {}:\n{}",
                data_dir.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let file = data_dir.join(CREDENTIALS_FILE);
        credentials.write(&file)?;
        if let Some(user) = &self.run_as {
            chown(&file, user)?;
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

/// The port of a postmaster that runs in `data_dir`, belongs to `owner`
/// and answers on its port. Another user's process is never attached to,
/// whatever postmaster.pid says.
fn running_port(data_dir: &Path, owner: u32) -> Option<u16> {
    let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let mut lines = pid_file.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    // Line 4 of postmaster.pid is the port.
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    let process = std::fs::metadata(format!("/proc/{pid}")).ok()?;
    if process.uid() != owner {
        log::warn!(
            "postmaster.pid in {} names process {pid}, which another user runs; not attaching",
            data_dir.display()
        );
        return None;
    }
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    TcpStream::connect_timeout(&addr.into(), Duration::from_millis(500)).ok()?;
    Some(port)
}

/// Where a fallback data folder is recorded, inside the wanted one.
const FALLBACK_RECORD: &str = "newsroom-fallback-location";

/// Refuses a folder that is a link, that `owner` does not own, or that
/// others may enter.
fn check_private(dir: &Path, owner: u32) -> anyhow::Result<()> {
    let meta =
        std::fs::symlink_metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    if meta.uid() != owner {
        bail!(
            "{} belongs to user id {}, not to the cluster's owner ({owner}); refusing to use it",
            dir.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A cluster made by an older Newsroom, which let anyone on the machine in
/// without a password: moved aside (not deleted), and a new one is made.
fn set_aside_legacy_cluster(binaries: &Binaries, data_dir: &Path) -> anyhow::Result<()> {
    let _ = binaries
        .command("pg_ctl")
        .args(["stop", "-w", "-m", "fast", "-D"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let aside = data_dir.with_file_name(format!(
        "{}.trust-{}",
        data_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("pg"),
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    let fresh = data_dir.with_extension("new");
    std::fs::rename(data_dir, &aside)
        .with_context(|| format!("moving {} aside", data_dir.display()))?;
    std::fs::create_dir(&fresh)?;
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o700))?;
    if let Some(user) = &binaries.run_as {
        chown(&fresh, user)?;
    }
    std::fs::rename(&fresh, data_dir)?;
    log::warn!(
        "{} held a cluster without passwords (made by an older Newsroom); it was moved to {} \
         and a new one is created",
        data_dir.display(),
        aside.display()
    );
    Ok(())
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

fn user_uid(user: &str) -> anyhow::Result<u32> {
    let output = Command::new("id").args(["-u", user]).output()?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .with_context(|| format!("finding the user id of `{user}`"))
}

/// Gives one file or folder (not what is inside it) to `user`.
fn chown(path: &Path, user: &str) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .arg("--no-dereference")
        .arg(format!("{user}:"))
        .arg(path)
        .status()
        .context("running chown")?;
    if !status.success() {
        bail!("chown {user} {} failed", path.display());
    }
    Ok(())
}
