#!/usr/bin/env bash
# Measures every preset and the reference sweeps on this machine and writes
# the results to reports/results/ (then run scripts/regen-charts.sh).
# Takes about 3 minutes on 2 cores; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin concbench
out=reports/results
mkdir -p "$out"
bin=./target/release/concbench
for preset in api-pull mixed-pipeline aiomultiprocess pure-cpu pure-io spawn-overhead; do
    echo "== $preset"
    "$bin" run --preset "$preset" --format json --out "$out/$preset.json" >/dev/null
done
echo "== connection-reuse (a preset that sweeps connection=reuse,new)"
"$bin" run --preset connection-reuse --format json --out "$out/connection-reuse.json" >/dev/null
echo "== concurrency sweep"
"$bin" sweep -s thread-pool,async,async-single,process-pool-async,thread-per-task -n 400 -l 20ms --cpu 0 \
    --param concurrency=1,4,16,64,256 --format json --out "$out/concurrency-sweep.json" >/dev/null
echo "== crossover map: latency x CPU per task"
"$bin" sweep -s thread-pool,async,async-single,async-rayon,process-pool -n 100 -c 20 --repeat 5 \
    --param latency=1ms,10ms,100ms --param cpu=0,1ms,10ms --format json --out "$out/crossover-latency-cpu.json" >/dev/null
rm -f "$out"/*.csv.tmp-* 2>/dev/null || true
echo "results in $out"
