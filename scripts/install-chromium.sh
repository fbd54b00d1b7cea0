#!/usr/bin/env bash
# Installs what scripts/check-html.sh needs: Debian's chromium package and
# playwright-core (the version pinned in scripts/html-check/package-lock.json)
# into scripts/html-check/node_modules. Idempotent; needs root (or sudo) for apt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x /usr/bin/chromium ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d "$here/html-check/node_modules/playwright-core" ]; then
    (cd "$here/html-check" && npm ci --no-audit --no-fund --silent)
fi
/usr/bin/chromium --version
echo "playwright-core $(node -p "require('$here/html-check/node_modules/playwright-core/package.json').version")"
