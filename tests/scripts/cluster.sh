#!/usr/bin/env bash
# Several instances on a primary and a streaming replica (issue 12 §3): a
# PostgreSQL primary and a replica made with `pg_basebackup -R`, three
# Newsroom instances started at the same moment (DATABASE_REPLICA_URLS set)
# and Varnish in front with deploy/varnish/newsroom.vcl. Checks that the
# migrations ran once; that a write on one instance is read through Varnish
# and through every instance; that /readyz shows the replica in use and
# anonymous reads really reach it (the replica logs their statements);
# measures articles saved per second on the primary; that killing one
# instance loses no acknowledged write and Varnish's other backends answer;
# that stopping the replica sends reads to the primary and its return
# brings them back; that a replica further behind than
# NEWSROOM_REPLICA_MAX_LAG (its replay paused) is skipped, while a save
# reads back at once through any instance; and that after the primary is stopped, promoting the
# replica and restarting the instances with DATABASE_URL pointing at it
# lets the service go on (the README's runbook).
#
# Usage: tests/scripts/cluster.sh        (from anywhere; CI runs it)
#
# Installs varnish and varnish-modules (Debian packages) when missing;
# builds the newsroom debug binary unless NEWSROOM_BIN names one. Starts its
# own PostgreSQL primary and replica (password auth, 127.0.0.1, free ports),
# the instances and varnishd, all on free 127.0.0.1 ports, and stops and
# removes them on exit. CLUSTER_KEEP=1 keeps the work folder (logs, VCL).
# The write figure: CLUSTER_WRITERS parallel writers (default 4) for
# CLUSTER_WRITE_SECS seconds (default 8); for the README's figure,
#   cargo build --release && NEWSROOM_BIN=target/release/newsroom \
#     CLUSTER_WRITERS=16 tests/scripts/cluster.sh
# Ends with "N passed, N failed"; exits non-zero on any failure, after
# printing the logs.
# check's conditions are single-quoted on purpose: it evaluates them.
# shellcheck disable=SC2016
set -euo pipefail

cd "$(dirname "$0")/../.."

log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'FAIL setup: %s\n0 passed, 1 failed\n' "$*"
    SHOW_LOGS=1
    exit 1
}

apt_install() {
    log "installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
xkey_vmod() { # is the xkey vmod (varnish-modules) installed?
    compgen -G "/usr/lib/*/varnish/vmods/libvmod_xkey.so" >/dev/null ||
        compgen -G "/usr/lib/varnish/vmods/libvmod_xkey.so" >/dev/null
}
command -v varnishd >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v varnishd >/dev/null || apt_install varnish
xkey_vmod || apt_install varnish-modules
command -v curl >/dev/null || apt_install curl
command -v python3 >/dev/null || apt_install python3
if [[ $(id -u) == 0 ]] && ! command -v runuser >/dev/null; then apt_install util-linux; fi

BIN=${NEWSROOM_BIN:-target/debug/newsroom}
if [[ -z "${NEWSROOM_BIN:-}" ]]; then
    log "building newsroom (debug)"
    cargo build --locked --quiet --bin newsroom
fi
[[ -x "$BIN" ]] || die "no newsroom binary at $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
VCL_SOURCE=$PWD/deploy/varnish/newsroom.vcl
MIGRATIONS=$(find migrations -mindepth 1 -maxdepth 1 -type d | wc -l)

# PostgreSQL server programs: PG_BINDIR, else the newest installed.
PG_BIN=${PG_BINDIR:-}
if [[ -z "$PG_BIN" ]]; then
    PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
if [[ -z "$PG_BIN" ]] && command -v pg_config >/dev/null; then PG_BIN=$(pg_config --bindir); fi
[[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_basebackup" ]] ||
    die "PostgreSQL server programs (initdb, pg_ctl, pg_basebackup) not found; set PG_BINDIR"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsroom-cluster.XXXXXX")
chmod 755 "$WORK" # the postgres user must reach its clusters under here
SHOW_LOGS=
AS_PG=()
[[ $(id -u) == 0 ]] && AS_PG=(runuser -u postgres --)
INSTANCES=(newsroom-a newsroom-b newsroom-c)

stop_pid() { # name pidfile [signal]: TERM (or the signal), up to 20 s to stop, then KILL
    local pid
    [[ -f "$2" ]] || return 0
    pid=$(cat "$2")
    kill "-${3:-TERM}" "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    log "$1 did not stop in 20 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}
pg_ctl_() { "${AS_PG[@]}" "$PG_BIN/pg_ctl" "$@"; }
show_logs() {
    local name
    for name in "${INSTANCES[@]}"; do
        [[ -f "$WORK/$name.log" ]] || continue
        printf '\n----- %s log (last 40 lines) -----\n' "$name"
        tail -n 40 "$WORK/$name.log"
    done
    for name in primary replica; do
        [[ -f "$WORK/$name.log" ]] || continue
        printf '\n----- PostgreSQL %s log (last 30 lines but statements) -----\n' "$name"
        grep -v -E 'LOG:  (statement|execute|duration)|DETAIL:  parameters' "$WORK/$name.log" | tail -n 30
    done
    if [[ -f "$WORK/varnishd.log" ]]; then
        printf '\n----- varnishd output -----\n'
        tail -n 20 "$WORK/varnishd.log"
    fi
}
cleanup() {
    local status=$? name
    [[ $status -ne 0 || -n "$SHOW_LOGS" ]] && show_logs
    stop_pid varnishd "$WORK/varnishd.pid"
    for name in "${INSTANCES[@]}"; do stop_pid "$name" "$WORK/$name.pid"; done
    for name in primary replica; do
        if [[ -f "$WORK/$name/postmaster.pid" ]]; then
            pg_ctl_ -D "$WORK/$name" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
    done
    if [[ -n "${CLUSTER_KEEP:-}" ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

# --- PostgreSQL primary: SCRAM passwords, TCP on loopback only, every
#     statement logged (the routing checks read the logs).
PRIMARY_PORT=$(free_port)
REPLICA_PORT=$(free_port)
PG_PASSWORD=$(secret)
mkdir -m 700 "$WORK/primary"
printf '%s\n' "$PG_PASSWORD" >"$WORK/pg-password"
chmod 600 "$WORK/pg-password"
if [[ ${#AS_PG[@]} -gt 0 ]]; then chown postgres: "$WORK/primary" "$WORK/pg-password"; fi
log "starting the PostgreSQL primary on 127.0.0.1:$PRIMARY_PORT"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/primary" -U postgres --auth=scram-sha-256 \
    --pwfile="$WORK/pg-password" -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
rm -f "$WORK/pg-password"
# Statements logged with their parameters; fsync off (a test cluster).
PG_OPTS="-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 \
-c fsync=off -c log_statement=all -c log_line_prefix='%m [%p] '"
touch "$WORK/primary.log" "$WORK/replica.log"
if [[ ${#AS_PG[@]} -gt 0 ]]; then chown postgres: "$WORK/primary.log" "$WORK/replica.log"; fi
start_pg() { # name port
    pg_ctl_ -D "$WORK/$1" -l "$WORK/$1.log" -w -t 60 -o "-p $2 $PG_OPTS" start >/dev/null
}
start_pg primary "$PRIMARY_PORT" || die "the primary did not start: $(tail -n 5 "$WORK/primary.log")"
PSQL=$PG_BIN/psql
[[ -x "$PSQL" ]] || PSQL=$(command -v psql)
sql() { # port SQL: one value
    PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -A -t -h 127.0.0.1 -p "$1" \
        -U postgres -d "${DB:-newsroom}" -c "$2"
}
DB=postgres sql "$PRIMARY_PORT" 'CREATE DATABASE newsroom' >/dev/null || die "could not create the database"

# --- The replica: a base backup of the primary with -R (standby.signal and
#     primary_conninfo written for us), streaming through its own slot.
log "making the replica with pg_basebackup -R (127.0.0.1:$REPLICA_PORT)"
mkdir -m 700 "$WORK/replica"
if [[ ${#AS_PG[@]} -gt 0 ]]; then chown postgres: "$WORK/replica"; fi
"${AS_PG[@]}" env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" \
    -U postgres -D "$WORK/replica" -R -X stream -C -S newsroom_replica -c fast \
    >"$WORK/basebackup.log" 2>&1 || die "pg_basebackup failed: $(tail -n 5 "$WORK/basebackup.log")"
start_pg replica "$REPLICA_PORT" || die "the replica did not start: $(tail -n 5 "$WORK/replica.log")"
in_recovery=$(sql "$REPLICA_PORT" 'SELECT pg_is_in_recovery()' 2>/dev/null || true)
streaming=$(sql "$PRIMARY_PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" || true)
[[ $in_recovery == t ]] || die "the replica is not in recovery ($in_recovery)"

PRIMARY_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PRIMARY_PORT/newsroom"
REPLICA_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$REPLICA_PORT/newsroom"
JWT_SECRET=$(secret)
export JWT_SECRET
unset NEWSROOM_ADDR NEWSROOM_DATA_DIR PORT DATABASE_REPLICA_URLS
export RUST_LOG=info

# --- Three instances, started together on an empty database.
VARNISH_PORT=$(free_port)
EDGE=http://127.0.0.1:$VARNISH_PORT
start_newsroom() { # name addr database-url replica-urls
    DATABASE_URL=$3 DATABASE_REPLICA_URLS=$4 NEWSROOM_REPLICA_MAX_LAG=2 \
        NEWSROOM_PURGE_URLS="$EDGE/" NEWSROOM_TRUSTED_PROXIES=127.0.0.1/32 \
        NEWSROOM_WORKERS=2 NEWSROOM_POOL_SIZE=8 \
        "$BIN" --addr "$2" serve >>"$WORK/$1.log" 2>&1 </dev/null &
    echo $! >"$WORK/$1.pid"
}
wait_serving() { # name [skip-lines]: prints the port once it is serving
    local name=$1 found
    for _ in $(seq 1 300); do
        found=$(tail -n "+$((${2:-0} + 1))" "$WORK/$name.log" 2>/dev/null |
            grep -E -o -m1 'serving on http://127\.0\.0\.1:[0-9]+' || true)
        if [[ -n "$found" ]]; then
            printf '%s\n' "${found##*:}"
            return 0
        fi
        kill -0 "$(cat "$WORK/$name.pid")" 2>/dev/null || { log "$name exited before serving"; return 1; }
        sleep 0.2
    done
    log "$name was not serving after 60 s"
    return 1
}
log "starting ${#INSTANCES[@]} instances at once"
for name in "${INSTANCES[@]}"; do start_newsroom "$name" 127.0.0.1:0 "$PRIMARY_URL" "$REPLICA_URL"; done
declare -A PORT URL
for name in "${INSTANCES[@]}"; do
    PORT[$name]=$(wait_serving "$name") || die "$name did not start"
    URL[$name]=http://127.0.0.1:${PORT[$name]}
done
A=${URL[newsroom-a]}
B=${URL[newsroom-b]}
C=${URL[newsroom-c]}
log "instances: A $A, B $B, C $C"

log "loading the demo content"
DATABASE_URL=$PRIMARY_URL "$BIN" seed --demo >"$WORK/seed.log" 2>&1 ||
    die "newsroom seed --demo failed: $(tail -n 5 "$WORK/seed.log")"
ADMIN_EMAIL=cluster-admin@newsroom.test
ADMIN_PASSWORD=$(secret)
printf '%s\n' "$ADMIN_PASSWORD" | DATABASE_URL=$PRIMARY_URL "$BIN" user create --email "$ADMIN_EMAIL" \
    --role admin --name 'Cluster Admin' >"$WORK/user.log" 2>&1 ||
    die "newsroom user create failed: $(tail -n 5 "$WORK/user.log")"

# --- Varnish: the operators' VCL with the instances as its backends (the
#     file's two, and a third copied from them).
python3 - "$VCL_SOURCE" "$WORK/newsroom.vcl" "${PORT[newsroom-a]}" "${PORT[newsroom-b]}" "${PORT[newsroom-c]}" <<'EOF' ||
import re, sys
source, out, a, b, c = sys.argv[1:]
vcl = open(source, encoding="utf-8").read()
vcl, n = re.subn(r'\.port = "8080";', f'.port = "{a}";', vcl)
vcl, m = re.subn(r'\.port = "8081";', f'.port = "{b}";', vcl)
block = re.search(r'backend newsroom_b \{.*?\n\}\n', vcl, re.S)
add = re.search(r'( *)newsroom\.add_backend\(newsroom_b\);\n', vcl)
if (n, m) != (1, 1) or not block or not add:
    sys.exit("deploy/varnish/newsroom.vcl changed shape")
third = block.group(0).replace("newsroom_b", "newsroom_c").replace(f'"{b}"', f'"{c}"')
vcl = vcl[:block.end()] + "\n" + third + vcl[block.end():]
vcl = vcl.replace(add.group(0), add.group(0) + f"{add.group(1)}newsroom.add_backend(newsroom_c);\n")
open(out, "w", encoding="utf-8").write(vcl)
EOF
    die "could not write the VCL for three backends"
log "starting varnishd on $EDGE"
varnishd -F -j none -n "$WORK/varnish" -a "127.0.0.1:$VARNISH_PORT" -f "$WORK/newsroom.vcl" \
    -s malloc,64m >"$WORK/varnishd.log" 2>&1 </dev/null &
echo $! >"$WORK/varnishd.pid"
varnishadm_() { timeout 3 varnishadm -n "$WORK/varnish" "$@" 2>/dev/null || true; }
backends_in() { # STATE: how many of the backends Varnish sees in it
    varnishadm_ backend.list | awk -v state="$1" '$1 ~ /\.newsroom_[abc]$/ && $4 == state' | wc -l
}
backend_state() { # a|b|c
    varnishadm_ backend.list | awk -v name="newsroom_$1" '$1 ~ "\\." name "$" { print $4 }'
}
wait_backends() { # COUNT SECONDS: until COUNT backends are healthy
    local healthy=0 deadline=$((SECONDS + $2))
    while [[ $SECONDS -lt $deadline ]]; do
        kill -0 "$(cat "$WORK/varnishd.pid")" 2>/dev/null || die "varnishd exited: $(tail -n 20 "$WORK/varnishd.log")"
        healthy=$(backends_in healthy)
        [[ $healthy -ge $1 ]] && return 0
        sleep 0.2
    done
    return 1
}
wait_backends 3 30 || die "Varnish did not see the three backends healthy in 30 s: $(varnishadm_ backend.list)"

# --- Checks
PASSED=0
FAILED=0
check() { # CONDITION (evaluated) NAME [DETAIL]; 0 passes, 1 fails outright
    local ok=1
    if [[ $1 == 0 ]] || { [[ $1 != 1 ]] && eval "$1"; }; then ok=0; fi
    if [[ $ok == 0 ]]; then
        PASSED=$((PASSED + 1))
        printf 'ok   - %s%s\n' "$2" "${3:+ ($3)}"
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL - %s%s\n' "$2" "${3:+: $3}"
    fi
}
info() { printf '       %s\n' "$*"; }

# get URL [curl args…]: the answer's status in $STATUS, headers and body in
# $WORK/r.h and $WORK/r.b; then `hdr NAME`, `body_json EXPR`.
get() {
    local url=$1
    shift
    STATUS=$(curl -sS -o "$WORK/r.b" -D "$WORK/r.h" -w '%{http_code}' --max-time 10 "$@" "$url" 2>"$WORK/r.err") ||
        STATUS=000
}
hdr() { grep -i "^$1:" "$WORK/r.h" | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//' || true; }
body_json() { # EXPR over `d`, the body as JSON; empty when it is not JSON
    python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
except ValueError:
    sys.exit(0)
print(eval(sys.argv[2]))' "$WORK/r.b" "$1" 2>/dev/null || true
}
now_ms() { date +%s%3N; }
readyz() { # BASE: sets $STATUS; $READS, $REPLICA_STATE, $REPLICA_LAG from its JSON
    get "$1/readyz"
    READS=$(body_json 'd["reads"]')
    REPLICA_STATE=$(body_json 'd["replicas"][0]["state"]')
    REPLICA_LAG=$(body_json 'd["replicas"][0]["lag_seconds"]')
}
wait_reads() { # BASE WANT SECONDS: until its readyz says reads go to WANT
    local deadline=$((SECONDS + $3))
    while :; do
        readyz "$1"
        [[ $READS == "$2" ]] && return 0
        [[ $SECONDS -ge $deadline ]] && return 1
        sleep 0.2
    done
}
# A read no cache can answer: an unknown slug (404), whose statement names
# the marker; which server logged it says where the read went.
PROBES=0
probe_read() { # BASE: sets $MARKER, $STATUS
    PROBES=$((PROBES + 1))
    MARKER="cluster-probe-$$-$PROBES"
    get "$1/api/v1/articles/$MARKER"
}
logged_on() { # primary|replica MARKER: whether that server ran a statement naming it
    local _
    for _ in $(seq 1 10); do
        grep -q -- "$2" "$WORK/$1.log" && return 0
        sleep 0.1
    done
    return 1
}
read_on_replica() { # BASE: a probe read that the replica runs (a few tries: right
    # after a write, reads go to the primary for the moment the replica
    # takes to replay it); $TRIES
    for TRIES in 1 2 3 4 5; do
        probe_read "$1"
        WHERE=$(where_read "$MARKER")
        [[ $WHERE == replica ]] && return 0
        sleep 0.3
    done
    return 1
}
where_read() { # MARKER: replica, primary, both or none
    local on_replica=0 on_primary=0
    logged_on replica "$1" && on_replica=1
    grep -q -- "$1" "$WORK/primary.log" && on_primary=1
    case $on_replica$on_primary in
    10) echo replica ;; 01) echo primary ;; 11) echo both ;; *) echo none ;;
    esac
}

# 1. Migrations ran once.
applied_logs=$(grep -l -E "applied [0-9]+ migration" "$WORK"/newsroom-[abc].log | wc -l)
applied_line=$(grep -h -E -o "applied [0-9]+ migration\(s\)" "$WORK"/newsroom-[abc].log | head -n 1)
rows=$(sql "$PRIMARY_PORT" 'SELECT count(*) FROM __diesel_schema_migrations' || echo '?')
distinct=$(sql "$PRIMARY_PORT" 'SELECT count(DISTINCT version) FROM __diesel_schema_migrations' || echo '?')
check '[[ $applied_logs == 1 && $applied_line == "applied $MIGRATIONS migration(s)" ]]' \
    "three instances started together: one of them applied the migrations" \
    "$applied_logs log(s) say '$applied_line'"
check '[[ $rows == "$MIGRATIONS" && $distinct == "$MIGRATIONS" ]]' \
    "__diesel_schema_migrations has each of the $MIGRATIONS migrations once" "$rows rows, $distinct versions"
check '[[ $streaming == 1 ]]' "the replica streams from the primary (pg_stat_replication)" "$streaming streaming"

# 2. /readyz shows the replica in use, on every instance; reads reach it.
for name in "${INSTANCES[@]}"; do
    wait_reads "${URL[$name]}" replica 10 || true
    check '[[ $STATUS == 200 && $READS == replica && $REPLICA_STATE == in_use ]]' \
        "$name: /readyz says anonymous reads use the replica" \
        "status $STATUS, reads $READS, replica $REPLICA_STATE, lag ${REPLICA_LAG}s"
done
read_on_replica "$B" || true
check '[[ $STATUS == 404 && $WHERE == replica ]]' "an anonymous read runs on the replica" \
    "status $STATUS, its statement logged by: $WHERE (try $TRIES)"

# 3. A write through A is read through Varnish and through every instance.
get "$A/api/v1/articles?limit=20"
[[ $STATUS == 200 ]] || die "article list from A: $STATUS"
X_ID=$(body_json 'd["items"][0]["id"]')
X_SLUG=$(body_json 'd["items"][0]["slug"]')
X_PATH=/api/v1/articles/$X_SLUG
for base in "$EDGE" "$A" "$B" "$C"; do get "$base$X_PATH"; get "$base$X_PATH"; done # warm every cache
get "$EDGE$X_PATH"
check '[[ $STATUS == 200 && $(hdr X-Edge-Cache) == HIT ]]' "article X is cached at the edge before the edit" "$(hdr X-Edge-Cache)"

get "$A/api/v1/auth/login" -X POST -H 'Content-Type: application/json' \
    --data "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}"
TOKEN=$(body_json 'd["access_token"]')
[[ -n $TOKEN ]] || die "no access token (status $STATUS)"
AUTH=(-H "Authorization: Bearer $TOKEN")
edit() { # BASE ID FIELD-JSON: PATCH through BASE with the current version
    local etag
    get "$1/api/v1/admin/articles/$2" "${AUTH[@]}"
    etag=$(hdr ETag)
    get "$1/api/v1/admin/articles/$2" -X PATCH "${AUTH[@]}" -H "If-Match: $etag" \
        -H 'Content-Type: application/json' --data "$3"
}
title_json() { python3 -c 'import json, sys; print(json.dumps({"title": sys.argv[1]}))' "$1"; }
title_is() { [[ $STATUS == 200 && $(body_json 'd["title"]') == "$1" ]]; }
poll_title() { # BASE TITLE: up to 2 s; $WAITED_MS
    local started
    started=$(now_ms)
    while :; do
        get "$1$X_PATH" --compressed
        WAITED_MS=$(($(now_ms) - started))
        title_is "$2" && return 0
        [[ $WAITED_MS -ge 2000 ]] && return 1
        sleep 0.05
    done
}
NEW_TITLE="Tin mới qua A $$"
edit "$A" "$X_ID" "$(title_json "$NEW_TITLE")"
check '[[ $STATUS == 200 ]]' "edit of X's title through instance A" "status $STATUS"
# The editor reads back at once through the same instance: the save shows.
get "$A$X_PATH"
check 'title_is "$NEW_TITLE"' "A's next public read shows the save at once (the replica is fenced)" \
    "X-Cache '$(hdr X-Cache)'"
for target in "varnish:$EDGE" "newsroom-a:$A" "newsroom-b:$B" "newsroom-c:$C"; do
    if poll_title "${target#*:}" "$NEW_TITLE"; then
        check 0 "the new title reads through ${target%%:*}" "${WAITED_MS} ms"
    else
        check 1 "the new title reads through ${target%%:*}" "still '$(body_json 'd["title"]')' after ${WAITED_MS} ms"
    fi
done
# And once more after the replica has it: what the caches hold is the save.
sleep 1.5
stale=
for base in "$EDGE" "$A" "$B" "$C"; do
    get "$base$X_PATH" --compressed
    title_is "$NEW_TITLE" || stale="$stale $base"
done
check '[[ -z $stale ]]' "1.5 s later every cache still holds the new title" "${stale:-none stale}"

# 4. The write path's limit: titles saved per second through one instance
#    (bounded: at most CLUSTER_WRITE_SECS, default 8, and 20,000 saves),
#    CLUSTER_WRITERS (default 4, at most 20) writers, each on its own article.
WRITERS=${CLUSTER_WRITERS:-4}
WRITE_SECS=${CLUSTER_WRITE_SECS:-8}
[[ $WRITERS =~ ^[0-9]+$ && $WRITERS -ge 1 && $WRITERS -le 20 ]] || die "CLUSTER_WRITERS must be 1 to 20"
[[ $WRITE_SECS =~ ^[0-9]+$ && $WRITE_SECS -ge 1 && $WRITE_SECS -le 60 ]] || die "CLUSTER_WRITE_SECS must be 1 to 60"
read -r SAVES SAVE_SECS SAVE_ERRORS < <(python3 - "$A" "$TOKEN" "$WRITERS" "$WRITE_SECS" <<'EOF'
import http.client, json, sys, threading, time, urllib.parse
base, token, writers, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = urllib.parse.urlsplit(base)
def conn():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=10)
c = conn()
c.request("GET", "/api/v1/admin/articles?limit=30", headers={"Authorization": f"Bearer {token}"})
items = json.loads(c.getresponse().read())["items"]
ids = [a["id"] for a in items][1:1 + writers]
saves, errors, lock = 0, 0, threading.Lock()
deadline = time.monotonic() + seconds
def writer(article_id):
    global saves, errors
    c = conn()
    auth = {"Authorization": f"Bearer {token}"}
    c.request("GET", f"/api/v1/admin/articles/{article_id}", headers=auth)
    r = c.getresponse(); r.read()
    etag = r.getheader("ETag")
    n = 0
    while time.monotonic() < deadline and saves < 20000:
        n += 1
        body = json.dumps({"title": f"Bản tin {article_id} lần {n}"})
        c.request("PATCH", f"/api/v1/admin/articles/{article_id}", body=body,
                  headers={**auth, "If-Match": etag, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        with lock:
            if r.status == 200:
                saves += 1
                etag = r.getheader("ETag")
            else:
                errors += 1
                return
started = time.monotonic()
threads = [threading.Thread(target=writer, args=(i,)) for i in ids]
for t in threads: t.start()
for t in threads: t.join()
print(saves, round(time.monotonic() - started, 2), errors)
EOF
) || true
SAVES_PER_SEC=$(python3 -c "import sys; print(round(int(sys.argv[1]) / float(sys.argv[2]), 1))" "${SAVES:-0}" "${SAVE_SECS:-1}" 2>/dev/null || echo 0)
check '[[ ${SAVES:-0} -gt 0 && ${SAVE_ERRORS:-1} == 0 ]]' \
    "articles saved per second through one instance ($WRITERS writers, PATCH with If-Match)" \
    "$SAVES saves in $SAVE_SECS s: $SAVES_PER_SEC/s, $SAVE_ERRORS errors; $(basename "$(dirname "$BIN")") build"

# 5. Killing one instance loses nothing.
LOSS_IDS=()
get "$B/api/v1/admin/articles?limit=30" "${AUTH[@]}"
mapfile -t LOSS_IDS < <(body_json '"\n".join(str(a["id"]) for a in d["items"][5:15])')
acked=0
for id in "${LOSS_IDS[@]}"; do
    edit "$B" "$id" "$(title_json "Lưu qua B $$ $id")"
    [[ $STATUS == 200 ]] && acked=$((acked + 1))
done
log "killing instance B (SIGKILL)"
stop_pid newsroom-b "$WORK/newsroom-b.pid" KILL
found=0
for id in "${LOSS_IDS[@]}"; do
    get "$C/api/v1/admin/articles/$id" "${AUTH[@]}"
    title_is "Lưu qua B $$ $id" && found=$((found + 1))
done
check '[[ $acked == ${#LOSS_IDS[@]} && $found == $acked ]]' \
    "every save B acknowledged before it was killed is there (read through C)" "$found of $acked"
deadline=$((SECONDS + 20))
while [[ $SECONDS -lt $deadline ]]; do
    [[ $(backend_state b) == sick ]] && break
    sleep 0.2
done
b_state=$(backend_state b)
check '[[ $b_state == sick ]]' "Varnish's probe takes B out of the rotation" "$b_state"
statuses=
for n in $(seq 1 12); do
    get "$EDGE/api/v1/articles?limit=$((n + 20))" --compressed
    statuses="$statuses$STATUS "
done
# shellcheck disable=SC2034 # read by check's eval
all_200=$(printf '200 %.0s' $(seq 1 12))
check '[[ $statuses == "$all_200" ]]' \
    "12 uncached reads through Varnish are answered by the other instances" "${statuses% }"

# 6. Stopping the replica sends reads to the primary; its return brings them back.
log "stopping the replica"
pg_ctl_ -D "$WORK/replica" -m fast -w -t 30 stop >/dev/null || die "the replica did not stop"
started=$(now_ms)
for name in newsroom-a newsroom-c; do
    wait_reads "${URL[$name]}" primary 10 || true
    check '[[ $STATUS == 200 && $READS == primary && $REPLICA_STATE == down ]]' \
        "replica stopped: $name's /readyz stays 200 and says reads go to the primary" \
        "status $STATUS, reads $READS, replica $REPLICA_STATE, after $(($(now_ms) - started)) ms"
done
statuses=
for base in "$A" "$C"; do
    for n in 1 2 3; do
        get "$base/api/v1/articles?limit=$((n + 40))"
        statuses="$statuses$STATUS "
    done
done
probe_read "$C"
where=$(where_read "$MARKER")
check '[[ $statuses == "200 200 200 200 200 200 " && $STATUS == 404 && $where == primary ]]' \
    "reads still answer, from the primary" "${statuses% }; probe logged by: $where"
DOWN_TITLE="Lưu khi bản sao tắt $$"
edit "$A" "$X_ID" "$(title_json "$DOWN_TITLE")"
check '[[ $STATUS == 200 ]]' "a save while the replica is down" "status $STATUS"
log "starting the replica again"
start_pg replica "$REPLICA_PORT" || die "the replica did not start again: $(tail -n 5 "$WORK/replica.log")"
started=$(now_ms)
wait_reads "$A" replica 15 || true
check '[[ $STATUS == 200 && $READS == replica && $REPLICA_STATE == in_use ]]' \
    "replica back: reads go to it again" \
    "reads $READS, replica $REPLICA_STATE, lag ${REPLICA_LAG}s, after $(($(now_ms) - started)) ms"
wait_reads "$C" replica 10 || true
read_on_replica "$C" || true
check '[[ $STATUS == 404 && $WHERE == replica ]]' "an anonymous read runs on the replica again" \
    "probe logged by: $WHERE (try $TRIES)"
get "$C$X_PATH"
check 'title_is "$DOWN_TITLE"' "what was saved while it was down reads through C" "$(hdr X-Cache)"
get "$C/api/v1/articles?limit=77"
list_has_title() { [[ $STATUS == 200 && $(body_json "any(a['title'] == '''$1''' for a in d['items'])") == True ]]; }
check 'list_has_title "$DOWN_TITLE"' "and an uncached list from the replica has it" "status $STATUS"

# A replica further behind than NEWSROOM_REPLICA_MAX_LAG (2 s here) is
# skipped: its replay paused, a save on the primary.
log "pausing the replica's replay"
sql "$REPLICA_PORT" 'SELECT pg_wal_replay_pause()' >/dev/null || die "could not pause the replica's replay"
LAG_TITLE="Lưu khi bản sao chậm $$"
edit "$A" "$X_ID" "$(title_json "$LAG_TITLE")"
check '[[ $STATUS == 200 ]]' "a save while the replica's replay is paused" "status $STATUS"
get "$C$X_PATH"
check 'title_is "$LAG_TITLE"' "C reads the save at once (from the primary: the replica has not got it)" \
    "$(body_json 'd["title"]')"
started=$(now_ms)
wait_reads "$A" primary 10 || true
check '[[ $STATUS == 200 && $READS == primary && $REPLICA_STATE == lagging ]]' \
    "past 2 s behind: /readyz says lagging, reads go to the primary" \
    "status $STATUS, replica $REPLICA_STATE, lag ${REPLICA_LAG}s, after $(($(now_ms) - started)) ms"
probe_read "$C"
where=$(where_read "$MARKER")
check '[[ $STATUS == 404 && $where == primary ]]' "an anonymous read runs on the primary" "probe logged by: $where"
sql "$REPLICA_PORT" 'SELECT pg_wal_replay_resume()' >/dev/null || die "could not resume the replica's replay"
started=$(now_ms)
wait_reads "$A" replica 10 || true
check '[[ $STATUS == 200 && $READS == replica && $REPLICA_STATE == in_use ]]' \
    "replay resumed: the replica is in use again" \
    "lag ${REPLICA_LAG}s, after $(($(now_ms) - started)) ms"

# 7. Failover: the primary stops; the replica is promoted; the instances
#    restart with DATABASE_URL pointing at it (the README's runbook).
LAST_TITLE="Trước khi đổi máy chủ $$"
edit "$A" "$X_ID" "$(title_json "$LAST_TITLE")"
check '[[ $STATUS == 200 ]]' "a last save before the primary stops" "status $STATUS"
poll_title "$EDGE" "$LAST_TITLE" || true # cached at the edge again
log "stopping the primary"
pg_ctl_ -D "$WORK/primary" -m fast -w -t 30 stop >/dev/null || die "the primary did not stop"
deadline=$((SECONDS + 10))
while :; do
    readyz "$A"
    [[ $STATUS == 503 && $READS == replica ]] && break
    [[ $SECONDS -ge $deadline ]] && break
    sleep 0.2
done
a_ready=$STATUS
check '[[ $a_ready == 503 && $READS == replica ]]' \
    "primary down: /readyz is 503 (Varnish stops sending A traffic), reads go to the replica" \
    "status $a_ready, reads $READS"
# A few tries, as elsewhere: on a loaded machine the replica's log line can
# take longer than one probe waits for it.
read_on_replica "$A" || true
check '[[ $STATUS == 404 && $WHERE == replica ]]' \
    "with the primary down, anonymous reads are still answered by the replica" \
    "probe logged by: $WHERE (try $TRIES, status $STATUS)"
get "$EDGE$X_PATH" --compressed
check 'title_is "$LAST_TITLE"' "Varnish still answers article X with the last save" \
    "status $STATUS, $(hdr X-Edge-Cache)"
log "promoting the replica"
pg_ctl_ -D "$WORK/replica" -w -t 30 promote >/dev/null || die "pg_ctl promote failed"
promoted=$(sql "$REPLICA_PORT" 'SELECT pg_is_in_recovery()' || true)
check '[[ $promoted == f ]]' "the replica is promoted (no longer in recovery)" "pg_is_in_recovery: $promoted"
NEW_PRIMARY_URL=$REPLICA_URL
for name in newsroom-a newsroom-c; do
    stop_pid "$name" "$WORK/$name.pid"
    lines=$(wc -l <"$WORK/$name.log")
    start_newsroom "$name" "127.0.0.1:${PORT[$name]}" "$NEW_PRIMARY_URL" ""
    wait_serving "$name" "$lines" >/dev/null || die "$name did not restart on the promoted server"
done
lines=$(wc -l <"$WORK/newsroom-b.log")
start_newsroom newsroom-b "127.0.0.1:${PORT[newsroom-b]}" "$NEW_PRIMARY_URL" ""
wait_serving newsroom-b "$lines" >/dev/null || die "newsroom-b did not restart on the promoted server"
readyz "$A"
check '[[ $STATUS == 200 && $READS == primary ]]' "instances restarted on the promoted server: /readyz 200" \
    "status $STATUS, reads $READS"
get "$C$X_PATH"
check 'title_is "$LAST_TITLE"' "the last save before the failover is there" "$(body_json 'd["title"]')"
AFTER_TITLE="Sau khi đổi máy chủ $$"
edit "$C" "$X_ID" "$(title_json "$AFTER_TITLE")"
check '[[ $STATUS == 200 ]]' "a save on the promoted server" "status $STATUS"
wait_backends 3 20 || true
if poll_title "$EDGE" "$AFTER_TITLE"; then
    check 0 "the save reads through Varnish" "${WAITED_MS} ms, $(backends_in healthy) backends healthy"
else
    check 1 "the save reads through Varnish" "still '$(body_json 'd["title"]')'"
fi
get "$B$X_PATH"
check 'title_is "$AFTER_TITLE"' "and through the restarted instance B" "status $STATUS"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]] || {
    SHOW_LOGS=1
    exit 1
}
