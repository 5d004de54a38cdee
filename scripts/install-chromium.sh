#!/usr/bin/env bash
# The browser test drives the distribution's Chromium (Playwright's own browser download is not
# reachable from these machines). Installs it with apt when it is missing; prints its path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "chromium is missing; run as root or: sudo apt-get install -y chromium" >&2
        exit 1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v chromium
