#!/usr/bin/env bash
# CORS proven in a real browser (issue 9): headless Chromium loads
# tests/scripts/browser/page.html from a second loopback origin, which reads
# the article list, revalidates it with If-None-Match, signs in and reads the
# staff API; the same page from a third origin, listed nowhere, must be
# refused. A second server run with NEWSROOM_CORS_ORIGINS=* shows the public
# API open to any origin while the staff API stays closed. See
# tests/scripts/browser/driver.mjs for every check.
#
# Usage: tests/scripts/browser-cors.sh        (from anywhere; CI runs it)
#
# Installs Chromium (Debian package) and the pinned playwright-core (npm)
# when missing; builds the newsroom debug binary unless NEWSROOM_BIN names
# one. Starts two static file servers and two newsroom servers, each with a
# private PostgreSQL cluster, all on free 127.0.0.1 ports, and stops and
# removes them on exit. CORS_KEEP=1 keeps the work folder (server logs).
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "$0")/../.."

log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'FAIL setup: %s\n0 passed, 1 failed\n' "$*"
    exit 1
}

apt_install() {
    log "installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v chromium >/dev/null || apt_install chromium
command -v python3 >/dev/null || apt_install python3
command -v node >/dev/null || apt_install nodejs npm

# The pinned playwright-core, unless it is already there.
(
    cd tests/scripts/browser
    want=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
    have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')
    if [[ "$want" != "$have" ]]; then
        log "installing playwright-core $want (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error >&2
    fi
)

BIN=${NEWSROOM_BIN:-target/debug/newsroom}
if [[ -z "${NEWSROOM_BIN:-}" ]]; then
    log "building newsroom (debug)"
    cargo build --locked --quiet --bin newsroom
fi
[[ -x "$BIN" ]] || die "no newsroom binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsroom-browser.XXXXXX")
# The private clusters live under here and PostgreSQL runs as the `postgres`
# user, which must be able to reach them (mktemp's folder is 0700).
chmod 755 "$WORK"
SERVERS=(listed-site unlisted-site newsroom newsroom-star)

stop() { # name: TERM, give it time to stop its cluster, then KILL
    local pidfile="$WORK/$1.pid" pid
    [[ -f "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    log "$1 did not stop in 20 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local name pg pg_pid
    for name in "${SERVERS[@]}"; do stop "$name"; done
    # A server that had to be killed leaves its cluster running: stop it
    # (immediate shutdown). When the postgres user could not reach $WORK
    # the cluster lives elsewhere and the data folder records where.
    for name in newsroom newsroom-star; do
        pg="$WORK/$name/pg"
        [[ -f "$pg/newsroom-fallback-location" ]] && pg=$(cat "$pg/newsroom-fallback-location")
        if [[ -f "$pg/postmaster.pid" ]]; then
            pg_pid=$(head -1 "$pg/postmaster.pid")
            kill -QUIT "$pg_pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
        fi
        if [[ "$pg" != "$WORK/$name/pg" && -z "${CORS_KEEP:-}" ]]; then rm -rf "$pg"; fi
    done
    if [[ -n "${CORS_KEEP:-}" ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for NAME FILE PATTERN: prints the first match of PATTERN (grep -E -o)
# in FILE once the process NAME has written it; fails, showing NAME's logs,
# if NAME exits first or after 120 s.
wait_for() {
    local name=$1 file=$2 pattern=$3 found
    for _ in $(seq 1 600); do
        found=$(grep -E -o -m1 "$pattern" "$file" 2>/dev/null || true)
        if [[ -n "$found" ]]; then
            printf '%s\n' "$found"
            return 0
        fi
        if ! kill -0 "$(cat "$WORK/$name.pid")" 2>/dev/null; then
            log "$name exited before it was ready"
            tail -n 20 "$WORK/$name".{log,out} >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.2
    done
    log "$name was not ready after 120 s"
    tail -n 20 "$WORK/$name".{log,out} >&2 2>/dev/null || true
    return 1
}

# Two static origins serving the page: one listed, one not.
for name in listed-site unlisted-site; do
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory tests/scripts/browser \
        >"$WORK/$name.log" 2>&1 &
    echo $! >"$WORK/$name.pid"
done
port=$(wait_for listed-site "$WORK/listed-site.log" 'port [0-9]+') || die "no static server"
LISTED=http://127.0.0.1:${port#port }
port=$(wait_for unlisted-site "$WORK/unlisted-site.log" 'port [0-9]+') || die "no static server"
UNLISTED=http://127.0.0.1:${port#port }
log "page origins: listed $LISTED, unlisted $UNLISTED"

# Two newsroom servers with their own clusters, started together: one
# listing the page's origin, one open to any origin (`*`, public API only).
# Settings from the caller's environment that would point them elsewhere
# are dropped.
start_newsroom() { # name origins
    env -u DATABASE_URL -u JWT_SECRET -u NEWSROOM_ADDR -u NEWSROOM_DATA_DIR -u PORT \
        RUST_LOG=info NEWSROOM_CORS_ORIGINS="$2" \
        "$BIN" --data-dir "$WORK/$1" --addr 127.0.0.1:0 serve \
        >"$WORK/$1.out" 2>"$WORK/$1.log" &
    echo $! >"$WORK/$1.pid"
}
start_newsroom newsroom "$LISTED"
start_newsroom newsroom-star '*'
SERVING='serving on http://127\.0\.0\.1:[0-9]+'
API=$(wait_for newsroom "$WORK/newsroom.log" "$SERVING") || die "newsroom did not start"
API=${API#serving on }
STAR_API=$(wait_for newsroom-star "$WORK/newsroom-star.log" "$SERVING") || die "newsroom (*) did not start"
STAR_API=${STAR_API#serving on }
# The demo admin's password, from the server's stdout.
PASSWORD=$(wait_for newsroom "$WORK/newsroom.out" 'admin@newsroom\.test / [^ ]+') || die "no demo admin"
PASSWORD=${PASSWORD##* }
STAR_PASSWORD=$(wait_for newsroom-star "$WORK/newsroom-star.out" 'admin@newsroom\.test / [^ ]+') || die "no demo admin (*)"
STAR_PASSWORD=${STAR_PASSWORD##* }
log "newsroom $API (CORS origins: $LISTED); newsroom $STAR_API (CORS origins: *)"

status=0
CORS_API=$API CORS_PASSWORD=$PASSWORD CORS_STAR_API=$STAR_API CORS_STAR_PASSWORD=$STAR_PASSWORD \
    CORS_LISTED=$LISTED CORS_UNLISTED=$UNLISTED CHROMIUM=$(command -v chromium) \
    timeout -k 5 170 node tests/scripts/browser/driver.mjs || status=$?
if [[ $status -ne 0 && -z "${CORS_KEEP:-}" ]]; then
    log "CORS_KEEP=1 keeps the server logs for a look"
fi
exit "$status"
