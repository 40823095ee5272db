#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser.py), only when
# /usr/bin/chromium is missing.  Idempotent and quiet; on failure it prints
# apt's output and exits non-zero.  Never downloads a browser build itself.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install-chromium: not root and no sudo; cannot install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT

apt_opts=(-q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300)

echo "install-chromium: installing chromium from Debian packages..."
if ! { $SUDO apt-get "${apt_opts[@]}" update &&
       $SUDO apt-get "${apt_opts[@]}" install -y chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-chromium: apt-get failed (see output above)" >&2
    exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
    cat "$log" >&2
    echo "install-chromium: apt-get succeeded but $CHROMIUM is missing" >&2
    exit 1
fi
# (the Debian launcher script may print a harmless "[: ... unexpected operator")
echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo "installed at $CHROMIUM")"
