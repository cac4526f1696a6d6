#!/usr/bin/env bash
# Ten-minute mixed-load soak of the release build: reads, searches, view
# posts (wrk) and admin writes, with the server's resident memory, open file
# descriptors and threads sampled from /proc every 10 s. Not run in CI.
#
# Usage: bench/soak.sh            (from anywhere)
#
# Environment knobs:
#   SOAK_SECONDS      length of the load, in seconds (default 600)
#   SOAK_ARTICLES     synthetic articles to seed (default 20000)
#   SOAK_CONNECTIONS  wrk connections (default 16; wrk uses 2 threads)
#
# Uses a throwaway PostgreSQL cluster of its own (password auth, 127.0.0.1,
# a free port), seeded afresh each run and removed at the end. Results
# (samples.csv, summary.md, wrk output, the wrk script) go to
# bench/results/<timestamp>-soak/.
set -euo pipefail

cd "$(dirname "$0")/.."

SECONDS_OF_LOAD=${SOAK_SECONDS:-600}
ARTICLES=${SOAK_ARTICLES:-20000}
CONNECTIONS=${SOAK_CONNECTIONS:-16}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=bench/results/$STAMP-soak
BIN=target/release/newsroom

log() { printf '==> %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
fi
command -v python3 >/dev/null || { apt-get update && apt-get install -y python3; }

log "building (release)"
cargo build --release --bin newsroom

mkdir -p "$OUT"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
    echo "command: bench/soak.sh (SOAK_SECONDS=$SECONDS_OF_LOAD SOAK_ARTICLES=$ARTICLES SOAK_CONNECTIONS=$CONNECTIONS)"
    echo "cores: $(nproc)"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
    echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "kernel: $(uname -sr)"
    echo "wrk: $(wrk -v 2>&1 | head -1 || true)"
    echo "rustc: $(rustc --version)"
} >"$OUT/environment.txt"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsroom-soak.XXXXXX")
cleanup() {
    if [[ -f "$WORK/newsroom.pid" ]]; then
        kill -TERM "$(cat "$WORK/newsroom.pid")" 2>/dev/null || true
    fi
    if [[ -f "$WORK/pg/postmaster.pid" ]]; then
        pg_pid=$(head -1 "$WORK/pg/postmaster.pid")
        kill -QUIT "$pg_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    [[ -f "$WORK/newsroom.log" ]] && cp "$WORK/newsroom.log" "$OUT/newsroom.log"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 -B bench/soak.py "$WORK" "$BIN" "$OUT" "$SECONDS_OF_LOAD" "$ARTICLES" "$CONNECTIONS"
log "results in $OUT"
