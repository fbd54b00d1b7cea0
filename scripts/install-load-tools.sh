#!/usr/bin/env bash
# Installs the reference load generators used to check concbench's numbers by
# hand (wrk from Debian, oha from crates.io). The tests do not need them.
set -euo pipefail
if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk
fi
if ! command -v oha >/dev/null; then
    cargo install --locked oha
fi
wrk --version 2>&1 | head -1 || true
oha --version
