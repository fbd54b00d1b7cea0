#!/usr/bin/env bash
# One concbench sweep or run split over machines reachable by ssh: shard K of
# N runs on the K-th host, all at once; the parts are copied back and merged.
#
#   scripts/shard-ssh.sh --out sweep.json host1 host2 host3 -- \
#       sweep -s all --param concurrency=1,10,100 --param latency=1ms,10ms
#   scripts/shard-ssh.sh --out run.json client1 client2 -- \
#       run -s thread-pool,async -n 100k -c 500 --target http://server:8080
#
# A run's shards start together: --start-at (now + START_IN_S, default 30 s,
# for ssh and start-up) and --start-every STRATEGY_SLOT (default 60s, longer
# than any one strategy's run) are added, so every strategy of every host
# overlaps. Each host needs concbench on its PATH (CONCBENCH names another
# binary) and a synchronised clock (NTP) for a run; the merge runs here.
# Every ssh is bounded: CONNECT_TIMEOUT_S to connect (default 10), and
# SHARD_TIMEOUT_S for the whole shard (default 7200). SSH and SCP name other
# clients (e.g. for a jump host), and PARTS_DIR keeps the parts (default: a
# temporary directory, removed at the end).
set -euo pipefail

usage() {
    echo "usage: $0 --out FILE HOST... -- (sweep|run) FLAGS..." >&2
    exit 2
}

out=""
hosts=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="${2:-}"; shift 2 || usage ;;
        --) shift; break ;;
        -*) usage ;;
        *) hosts+=("$1"); shift ;;
    esac
done
[[ -n "$out" && ${#hosts[@]} -gt 0 && $# -gt 0 ]] || usage
command="$1"
[[ "$command" == sweep || "$command" == run ]] || usage

ssh_cmd=${SSH:-ssh}
scp_cmd=${SCP:-scp}
concbench=${CONCBENCH:-concbench}
connect=${CONNECT_TIMEOUT_S:-10}
limit=${SHARD_TIMEOUT_S:-7200}
n=${#hosts[@]}
parts=${PARTS_DIR:-}
if [[ -z "$parts" ]]; then
    parts=$(mktemp -d)
    trap 'rm -rf "$parts"' EXIT
fi
mkdir -p "$parts"

extra=()
if [[ "$command" == run ]]; then
    extra=(--start-at "$(( $(date +%s) + ${START_IN_S:-30} ))" --start-every "${STRATEGY_SLOT:-60s}")
fi

pids=()
for k in $(seq 1 "$n"); do
    host=${hosts[$((k - 1))]}
    remote="/tmp/concbench-part-$$-$k.json"
    # Each word quoted for the remote shell.
    words=$(printf '%q ' "$concbench" "$@" "${extra[@]}" --shard "$k/$n" --format json --out "$remote")
    (
        timeout "$limit" "$ssh_cmd" -o BatchMode=yes -o ConnectTimeout="$connect" "$host" \
            "$words >/dev/null" &&
            timeout 600 "$scp_cmd" -o BatchMode=yes -o ConnectTimeout="$connect" \
                "$host:$remote" "$parts/part-$k.json" &&
            timeout 60 "$ssh_cmd" -o BatchMode=yes -o ConnectTimeout="$connect" "$host" \
                "rm -f $remote" &&
            echo "shard $k/$n from $host: $parts/part-$k.json" >&2
    ) &
    pids+=($!)
done
failed=0
for k in "${!pids[@]}"; do
    if ! wait "${pids[$k]}"; then
        echo "shard $((k + 1))/$n on ${hosts[$k]} failed" >&2
        failed=1
    fi
done
# A failed shard leaves its part missing, and merge refuses to go on without it.
parts_found=("$parts"/part-*.json)
[[ -e "${parts_found[0]}" ]] || { echo "no part came back" >&2; exit 1; }
"$concbench" merge "${parts_found[@]}" --out "$out"
exit "$failed"
