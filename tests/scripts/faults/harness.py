"""A throwaway PostgreSQL cluster and a newsroom server for the fault and
soak scripts: standard library only, everything on 127.0.0.1, free ports.

The cluster uses password (SCRAM) authentication with a random password and
serves the app through a non-superuser role that owns its database; it has
no Unix socket, so nothing but TCP with the password reaches it.
"""

import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir():
    """PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else pg_config's."""
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        versions = sorted(
            (d for d in os.listdir(root) if os.path.exists(f"{root}/{d}/bin/initdb")),
            key=lambda v: [int(x) for x in re.findall(r"\d+", v)],
        )
        if versions:
            return f"{root}/{versions[-1]}/bin"
    if shutil.which("pg_config"):
        return subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(os.path.realpath(initdb))
    raise SystemExit("PostgreSQL server programs (initdb, pg_ctl) not found; set PG_BINDIR")


class Cluster:
    """A PostgreSQL cluster under WORKDIR/pg, listening on 127.0.0.1:port."""

    APP_ROLE = "newsroom"
    DATABASE = "newsroom"

    def __init__(self, workdir, settings=()):
        self.workdir = workdir
        self.bindir = postgres_bindir()
        self.data = os.path.join(workdir, "pg")
        self.log = os.path.join(self.data, "server.log")
        self.port = free_port()
        self.super_password = secrets.token_urlsafe(24)
        self.app_password = secrets.token_urlsafe(24)
        self.settings = list(settings)
        # initdb refuses to run as root: run the server programs as `postgres`.
        self.as_user = []
        self.owner = None
        if os.geteuid() == 0:
            self.owner = pwd.getpwnam("postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args, **kwargs):
        return subprocess.run(self.as_user + list(args), check=True, **kwargs)

    def init(self):
        os.chmod(self.workdir, 0o711)  # the postgres user must reach its folder
        os.makedirs(self.data, mode=0o700)
        pwfile = os.path.join(self.workdir, "pg-password")
        with open(pwfile, "w") as f:
            f.write(self.super_password + "\n")
        if self.owner:
            os.chown(self.data, self.owner.pw_uid, self.owner.pw_gid)
            os.chown(pwfile, self.owner.pw_uid, self.owner.pw_gid)
        os.chmod(pwfile, 0o600)
        try:
            self._run(
                f"{self.bindir}/initdb", "-D", self.data, "-U", "postgres",
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                "--locale=C.UTF-8", stdout=subprocess.DEVNULL,
            )
        finally:
            os.unlink(pwfile)
        self.start()
        self.psql(
            f"CREATE ROLE {self.APP_ROLE} LOGIN PASSWORD '{self.app_password}'",
            db="postgres",
        )
        self.psql(f"CREATE DATABASE {self.DATABASE} OWNER {self.APP_ROLE}", db="postgres")

    def start(self):
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            "-c unix_socket_directories=''",
            "-c max_connections=200",
        ] + [f"-c {s}" for s in self.settings]
        self._run(
            f"{self.bindir}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
            "-o", " ".join(options), "start", stdout=subprocess.DEVNULL,
        )

    def stop(self, mode="fast"):
        self._run(
            f"{self.bindir}/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop",
            stdout=subprocess.DEVNULL,
        )

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def cleanup(self):
        if os.path.isdir(self.data) and self.running():
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pass

    def url(self):
        return (
            f"postgres://{self.APP_ROLE}:{self.app_password}"
            f"@127.0.0.1:{self.port}/{self.DATABASE}"
        )

    def psql(self, sql, db=None):
        """Runs SQL as the superuser over TCP; returns unaligned output."""
        env = dict(os.environ, PGPASSWORD=self.super_password, PGCONNECT_TIMEOUT="5")
        psql = f"{self.bindir}/psql"
        if not os.path.exists(psql):
            psql = shutil.which("psql") or psql
        out = subprocess.run(
            [psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", db or self.DATABASE, "-c", sql],
            check=True, capture_output=True, text=True, env=env,
        )
        return out.stdout.strip()


class Server:
    """The newsroom binary serving on 127.0.0.1 with a port of its choosing."""

    def __init__(self, binary, workdir, database_url, extra_env=None, name="newsroom"):
        self.binary = binary
        self.log = os.path.join(workdir, f"{name}.log")
        self.pidfile = os.path.join(workdir, f"{name}.pid")
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=database_url,
            JWT_SECRET=secrets.token_urlsafe(48),  # 48 random bytes
            RUST_LOG="info",
        )
        self.env.pop("NEWSROOM_ADDR", None)
        self.env.update(extra_env or {})
        self.process = None
        self.port = None

    def cli(self, *args, stdin=None):
        return subprocess.run(
            [self.binary, *args], env=self.env, input=stdin, text=True,
            capture_output=True, check=True,
        ).stdout

    def start(self, timeout=60):
        logf = open(self.log, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--addr", "127.0.0.1:0", "serve"],
            env=self.env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        logf.close()
        with open(self.pidfile, "w") as f:
            f.write(str(self.process.pid))
        deadline = time.monotonic() + timeout
        pattern = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                found = pattern.search(f.read())
            if found:
                self.port = int(found.group(1))
                return self.port
            if self.process.poll() is not None:
                raise RuntimeError(f"newsroom exited with {self.process.returncode}; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"newsroom did not log its address in {timeout} s; see {self.log}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.body)


def request(port, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection. Raises OSError (timeouts included)
    when no complete answer comes back in time."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    started = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload,
                        time.monotonic() - started)
    except http.client.HTTPException as e:
        raise OSError(f"{type(e).__name__}: {e}") from e
    finally:
        conn.close()


def proc_sample(pid):
    """Resident memory (kB) and open file descriptors of a process."""
    rss = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds
