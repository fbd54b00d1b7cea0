#!/usr/bin/env bash
# Opens an HTML report in headless Chromium and checks it is self-contained:
# no console error, no request other than the file itself, and screenshots at
# desktop width (OUT.png) and at phone width, 390 px (OUT-phone.png), that are
# not blank. Exits 1 with one line per failure. Needs scripts/install-chromium.sh.
# With TOP_PX, also OUT-top.png: the first TOP_PX pixels of the desktop page.
#   scripts/check-html.sh report.html shot.png [TOP_PX]
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 FILE.html OUT.png [TOP_PX]" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -f "$1" ]; then
    echo "$1: no such file" >&2
    exit 2
fi
if [ ! -d "$here/html-check/node_modules/playwright-core" ]; then
    echo "playwright-core is not installed: run scripts/install-chromium.sh first" >&2
    exit 2
fi
# A hard bound, so a hung browser cannot hold CI.
exec timeout 120 node "$here/html-check/check.mjs" "$@"
