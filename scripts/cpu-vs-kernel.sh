#!/usr/bin/env bash
# Holds the CPU concbench reports against the kernel's count, per strategy:
# the kernel's CPU (user + sys of concbench and every child it reaped, from
# /usr/bin/time) of `--repeat 3` minus that of `--repeat 1` is the CPU of two
# rounds; the reported figure is the same difference of the rounds' client,
# sampler and server CPU. Fixed costs (start-up, calibration, verification)
# cancel out. Needs /usr/bin/time and python3.
# Usage: scripts/cpu-vs-kernel.sh [strategy ...]   (default: every strategy)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin concbench
B=./target/release/concbench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
strategies=("$@")
[ ${#strategies[@]} -gt 0 ] || mapfile -t strategies < <($B list | awk '/^strategies/{s=1;next} /^$/{s=0} s{print $1}')
for S in "${strategies[@]}"; do
  for R in 1 3; do
    /usr/bin/time -f '%U %S' -o "$tmp/k$R" $B run -s "$S" -n 600 -l 0 --cpu 3ms -c 8 \
      --repeat $R --format json --out "$tmp/r$R.json" >/dev/null 2>&1 || true
  done
  python3 - "$S" "$tmp" <<'PY'
import json, sys
s, tmp = sys.argv[1], sys.argv[2]
def kernel(r):
    u, v = open(f"{tmp}/k{r}").read().split()[-2:]
    return float(u) + float(v)
def reported(r):
    x = json.load(open(f"{tmp}/r{r}.json"))["results"][0]
    return sum(o["cpu_user_s"] + o["cpu_sys_s"] + o["sampler_cpu_s"]
               + o["server"]["cpu_user_s"] + o["server"]["cpu_sys_s"]
               for o in (x.get("repeats") or [x]))
k = kernel(3) - kernel(1)
r = reported(3) - reported(1)
print(f"{s:20s} kernel {k:7.3f} s  reported {r:7.3f} s  difference {100 * (r - k) / k:+6.2f}%")
PY
done
