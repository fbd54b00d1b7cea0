#!/usr/bin/env bash
# Regenerates every chart and summary under reports/charts/ from the committed
# results in reports/results/*.json, without running any benchmark.
# The output is deterministic: on a fresh clone it reproduces the committed
# files byte for byte (`git status reports/` shows nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin concbench
shopt -s nullglob
files=(reports/results/*.json)
if [ ${#files[@]} -eq 0 ]; then
    echo "no results in reports/results/; run scripts/run-presets.sh first" >&2
    exit 2
fi
for f in "${files[@]}"; do
    name=$(basename "$f" .json)
    # Start from an empty directory so no chart of an earlier layout lingers.
    rm -rf "reports/charts/$name"
    ./target/release/concbench report "$f" --out "reports/charts/$name" >/dev/null
    echo "reports/charts/$name"
done
