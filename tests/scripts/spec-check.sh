#!/usr/bin/env bash
# The spec tells the whole truth: `redocly lint` (recommended rules) on the
# committed openapi/openapi.json, then schemathesis over every operation of
# the spec the server serves, public and staff (with a real admin token), all
# checks on, examples, coverage, fuzzing and a stateful phase that creates,
# edits and publishes articles.
#
# Usage: tests/scripts/spec-check.sh
#   NEWSROOM_BIN=path   use this binary instead of `cargo build`
#   SPEC_MAX_EXAMPLES   test cases per operation and phase (default 40)
#   SPEC_MAX_TIME       schemathesis time budget in seconds (default 300)
#
# Installs what is missing: @redocly/cli into tests/scripts/spec/node_modules
# (git-ignored), schemathesis into a venv under target/, and Debian's
# PostgreSQL when its server programs are absent. Starts its own PostgreSQL
# cluster and server on free loopback ports with throwaway data, and removes
# both on exit. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

REDOCLY_VERSION=2.77.0
SCHEMATHESIS_VERSION=4.32.5
SPEC_DIR=tests/scripts/spec
VENV=target/spec-check/venv
# schemathesis' full output and JUnit report stay here after the run.
OUT=target/spec-check/last-run
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
MAX_EXAMPLES=${SPEC_MAX_EXAMPLES:-40}
MAX_TIME=${SPEC_MAX_TIME:-300}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spec-check.XXXXXX")
chmod 755 "$WORK"
SERVER_PID=""
PGDATA=""
PG_BIN=""
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$PGDATA" ] && [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)

# --- tools -----------------------------------------------------------------
REDOCLY="$SPEC_DIR/node_modules/.bin/redocly"
if ! [ -x "$REDOCLY" ] || ! "$REDOCLY" --version 2>/dev/null | grep -qx "$REDOCLY_VERSION"; then
  echo "installing @redocly/cli $REDOCLY_VERSION"
  npm install --prefix "$SPEC_DIR" --no-save --no-package-lock --no-audit --no-fund \
    "@redocly/cli@$REDOCLY_VERSION" >/dev/null
fi
SCHEMATHESIS="$VENV/bin/schemathesis"
if ! [ -x "$SCHEMATHESIS" ] || ! "$SCHEMATHESIS" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION"
  # --clear: a venv moved from elsewhere (its scripts name the old path)
  # is made anew.
  python3 -m venv --clear "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PG_BIN" ] || ! [ -x "$PG_BIN/initdb" ]; then
  echo "installing PostgreSQL"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
if [ -n "${NEWSROOM_BIN:-}" ]; then
  BIN=$NEWSROOM_BIN
else
  cargo build --locked --quiet
  BIN=target/debug/newsroom
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }

# --- PostgreSQL: a private cluster with a random password ------------------
PGDATA="$WORK/pg"
mkdir -p "$PGDATA"
PG_PASSWORD=$(secret)
printf '%s\n' "$PG_PASSWORD" >"$WORK/pgpass"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$WORK/pg" "$WORK/pgpass"; fi
chmod 600 "$WORK/pgpass"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U newsroom --pwfile="$WORK/pgpass" \
  --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log"; exit 1; }
PG_PORT=$(free_port)
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w -l "$PGDATA/server.log" \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDATA -c fsync=off -c full_page_writes=off" \
  start >/dev/null
export DATABASE_URL="postgres://newsroom:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
export JWT_SECRET
JWT_SECRET=$(secret)

# --- the server, with the demo content and an admin -------------------------
"$BIN" seed --demo >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; exit 1; }
ADMIN_EMAIL=spec-check@newsroom.test
ADMIN_PASSWORD=$(secret)
printf '%s\n' "$ADMIN_PASSWORD" | "$BIN" user create --email "$ADMIN_EMAIL" --role admin \
  >"$WORK/user.log" 2>&1 || { cat "$WORK/user.log"; exit 1; }
# schemathesis sends thousands of requests from one address: no rate limit.
RUST_LOG=info "$BIN" --addr 127.0.0.1:0 --access-token-ttl 3600 --cache-ttl 0 \
  --rate-limit-anon-per-min 0 serve \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 300); do
  BASE=$(grep -o 'serving on http://127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 | sed 's/serving on //' || true)
  [ -n "$BASE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "the server did not start"; cat "$WORK/server.log"; exit 1; }
echo "server at $BASE"

TOKEN=$(BASE=$BASE EMAIL=$ADMIN_EMAIL PASSWORD=$ADMIN_PASSWORD python3 -c '
import json, os, urllib.request
body = json.dumps({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}).encode()
req = urllib.request.Request(os.environ["BASE"] + "/api/v1/auth/login", data=body,
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=30))["access_token"])
')
[ -n "$TOKEN" ] || { echo "could not sign in"; exit 1; }

# --- redocly ----------------------------------------------------------------
if "$REDOCLY" lint openapi/openapi.json --config "$SPEC_DIR/redocly.yaml" \
  --format=stylish >"$WORK/redocly.log" 2>&1 &&
  grep -q "Woohoo! Your API description is valid" "$WORK/redocly.log" &&
  ! grep -Eq "^ +[0-9]+:[0-9]+ +(error|warning)" "$WORK/redocly.log"; then
  pass "redocly lint: no errors, no warnings"
else
  grep -v "^\s*║\|╔\|╚" "$WORK/redocly.log" || true
  fail "redocly lint"
fi

# --- schemathesis -------------------------------------------------------------
export NEWSROOM_TOKEN=$TOKEN
REPORT="$OUT/report"
set +e
"$SCHEMATHESIS" --config-file "$SPEC_DIR/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
  --checks all --mode all --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --workers 1 \
  --request-timeout 30 --seed "${SPEC_SEED:-$RANDOM}" \
  --report junit --report-dir "$REPORT" --no-shrink 2>&1 | tee "$OUT/schemathesis.log" | tail -n 150
st_status=${PIPESTATUS[0]}
set -e
junit=$(ls "$REPORT"/*.xml 2>/dev/null | head -1 || true)
if [ -n "$junit" ]; then
  read -r st_pass st_fail < <(python3 - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
ok = bad = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        bad += 1
        print("failed:", case.get("name"), file=sys.stderr)
    else:
        ok += 1
print(ok, bad)
EOF
  )
  passed=$((passed + st_pass))
  failed=$((failed + st_fail))
  echo "schemathesis: $st_pass operations passed, $st_fail failed (exit $st_status)"
fi
if [ "$st_status" != 0 ] && [ "${st_fail:-0}" = 0 ]; then
  fail "schemathesis exited $st_status"
fi
cp "$WORK/server.log" "$OUT/server.log"
if grep -q "panicked" "$WORK/server.log"; then
  grep -B2 -A5 "panicked" "$WORK/server.log" | head -40
  fail "the server panicked"
fi

echo "spec-check took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
