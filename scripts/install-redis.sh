#!/usr/bin/env bash
# The Celery deployment test (scripts/e2e/multi_worker.py) needs a Redis server binary; PyPI has no
# wheel that ships one, so this installs the distribution's redis-server with apt when it is missing
# (the test starts its own server on a free loopback port; the package's system service is not used).
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "redis-server is missing; run as root or: sudo apt-get install -y redis-server" >&2
        exit 1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
command -v redis-server
