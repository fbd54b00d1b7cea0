#!/usr/bin/env bash
# Installs what the two-host test (tests/integration/netns.rs) needs: ip and
# tc from Debian's iproute2. Idempotent; needs root (or sudo) for apt. The test
# itself skips, saying why, when it is not root or finds no ip.
set -euo pipefail
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq iproute2 >/dev/null
fi
ip -V
