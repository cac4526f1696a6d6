#!/usr/bin/env bash
# Fault checks: PostgreSQL stopped (fast, then immediate) and restarted
# under mixed load, and concurrent editors on one article. See
# tests/scripts/faults/faults.py for what is checked.
#
# Usage: tests/scripts/faults.sh        (from anywhere; CI runs it)
#
# Starts its own throwaway PostgreSQL cluster (password auth, 127.0.0.1, a
# free port) and the newsroom debug binary (built here unless NEWSROOM_BIN
# names one), and removes both on exit. Set FAULTS_KEEP=1 to keep the work
# folder (cluster and server logs) for a look afterwards.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "$0")/../.."

log() { printf '==> %s\n' "$*" >&2; }

command -v python3 >/dev/null || {
    log "installing python3"
    apt-get update && apt-get install -y python3
}
if [[ $(id -u) == 0 ]] && ! command -v runuser >/dev/null; then
    log "installing util-linux (runuser)"
    apt-get update && apt-get install -y util-linux
fi

BIN=${NEWSROOM_BIN:-target/debug/newsroom}
if [[ -z "${NEWSROOM_BIN:-}" ]]; then
    log "building newsroom (debug)"
    cargo build --quiet --bin newsroom
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsroom-faults.XXXXXX")
cleanup() {
    # The driver cleans up after itself; this covers it being killed.
    if [[ -f "$WORK/newsroom.pid" ]]; then
        kill -TERM "$(cat "$WORK/newsroom.pid")" 2>/dev/null || true
    fi
    if [[ -f "$WORK/pg/postmaster.pid" ]]; then
        pg_pid=$(head -1 "$WORK/pg/postmaster.pid")
        kill -QUIT "$pg_pid" 2>/dev/null || true # immediate shutdown
        for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [[ -n "${FAULTS_KEEP:-}" ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load here comes from one address, far past the anonymous rate limit;
# limits have their own tests (tests/api/partners.rs).
export NEWSROOM_RATE_LIMIT_ANON_PER_MIN=0
python3 -B tests/scripts/faults/faults.py "$WORK" "$BIN"
