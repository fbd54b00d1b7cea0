#!/usr/bin/env bash
# The CI performance gate: builds concbench in release and compares the quick
# suite with the committed baseline (reports/baseline.json). Exit codes are
# concbench check's: 0 no confirmed regression, 1 confirmed regression,
# 2 usage error (e.g. no baseline). Extra arguments go to `concbench check`,
# e.g. `scripts/perf-check.sh --update-baseline` after an intended change.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin concbench
exec ./target/release/concbench check --baseline "${BASELINE:-reports/baseline.json}" "$@"
