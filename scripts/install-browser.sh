#!/usr/bin/env bash
# Install headless Chromium + chromedriver from Debian's apt for the report browser tests (tests/reports).
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are already there.
# Nothing is downloaded by selenium itself: the tests use Service("/usr/bin/chromedriver").
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
    echo "chromedriver: $(/usr/bin/chromedriver --version 2>/dev/null || echo present)"
    exit 0
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: need root (or sudo) to apt-get install chromium chromium-driver" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium chromium-driver

/usr/bin/chromium --version
/usr/bin/chromedriver --version
