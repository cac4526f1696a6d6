#!/usr/bin/env bash
# Checks every dependency's licence, duplicated or banned crates, and where
# crates come from, against deny.toml. Advisories are not checked here: the
# RustSec database cannot be fetched from CI (the README says how to run
# `cargo deny check advisories` where it can).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Pinned so a new cargo-deny release cannot change the verdict by itself.
# The first install compiles cargo-deny (about 5 minutes of CPU; 33 minutes
# of wall time were measured on a shared, busy 2-core machine); later runs
# take seconds.
DENY_VERSION=0.20.2
if [[ "$(cargo-deny --version 2>/dev/null)" != "cargo-deny $DENY_VERSION" ]]; then
    echo "deny.sh: installing cargo-deny $DENY_VERSION" >&2
    cargo install cargo-deny --locked --version "$DENY_VERSION"
fi

cargo deny --locked check licenses bans sources
