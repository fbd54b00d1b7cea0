#!/usr/bin/env bash
# Puts concbench's async client and the mock server beside the reference tools:
#   1. the mock server's req/s under wrk and oha, beside a minimal hyper server's
#      (mock-server/examples/minimal_hyper.rs) under the same load;
#   2. concbench's async strategy at 0 ms latency, C = 50, against the same mock server.
# Everything is loopback, bounded (5 s per tool). Needs wrk and oha:
# scripts/install-load-tools.sh installs both.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
# Where concbench's results file goes (a fresh temporary folder unless OUT is set).
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
cargo build --release --workspace --bins --examples -q
MOCK_PORT=18080 HYPER_PORT=18090
./target/release/mock-server --port $MOCK_PORT >/dev/null &
MOCK=$!
./target/release/examples/minimal_hyper $HYPER_PORT >/dev/null &
HYPER=$!
trap 'kill $MOCK $HYPER 2>/dev/null || true' EXIT
sleep 0.5
WORK="http://127.0.0.1:$MOCK_PORT/work?id=1&latency_us=0&bytes=16"
LEAN="http://127.0.0.1:$HYPER_PORT/"

wrk_rps() { wrk -t1 -c"$CONNS" -d"$DURATION" "$1" | awk '/Requests\/sec/ {print $2}'; }
oha_rps() {
    oha -c "$CONNS" -z "$DURATION" --no-tui --output-format json "$1" 2>/dev/null |
        python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("%.0f (success rate %.3f)" % (s["requestsPerSec"], s["successRate"]))'
}

echo "load generator  server          req/s"
echo "wrk             mock-server     $(wrk_rps "$WORK")"
echo "wrk             minimal hyper   $(wrk_rps "$LEAN")"
echo "oha             mock-server     $(oha_rps "$WORK")"
echo "oha             minimal hyper   $(oha_rps "$LEAN")"
./target/release/concbench run -s async -n 100k -l 0 --cpu 0 -c "$CONNS" -b 16 \
    --target "http://127.0.0.1:$MOCK_PORT" -f json -o "$OUT/async-0ms-c$CONNS-throughput.json" >/dev/null 2>&1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("concbench async mock-server     %.0f (%d/%d verified, client CPU %.0f us/request)" % (r["throughput_per_s"], r["tasks_ok"], r["tasks"], 1e6*(r["cpu_user_s"]+r["cpu_sys_s"])/r["tasks"]))' \
    "$OUT/async-0ms-c$CONNS-throughput.json"
echo "results: $OUT/async-0ms-c$CONNS-throughput.json"
