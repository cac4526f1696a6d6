#!/usr/bin/env bash
# Every test, as CI runs them: the Rust suite (unit, integration and property
# tests against a private PostgreSQL it starts itself), then the scripts that
# drive real tools against the built server: faults (PostgreSQL stopped under
# load, concurrent editors), CORS in a real Chromium, purges through a real
# Varnish in front of two instances, three instances on a PostgreSQL primary
# and a streaming replica (failover included), media on a real S3-compatible server
# (moto), the spec (redocly lint and schemathesis
# over every operation) and the dependency policy (cargo deny). Each script
# installs what it needs when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --locked

# `cargo test` has just built the debug binary the scripts drive.
export NEWSROOM_BIN=target/debug/newsroom
tests/scripts/faults.sh
tests/scripts/browser-cors.sh
tests/scripts/varnish.sh
tests/scripts/cluster.sh
tests/scripts/media-s3.sh
tests/scripts/spec-check.sh
tests/scripts/deny.sh
