"""Container health check: GET /healthz on the port the Atiende service listens on.

The image has no curl, so this uses the standard library only. The port is ATIENDE_HTTP_PORT when
set, else the default port of the service named after `serve` in PID 1's command line
(`atiende serve routing` -> 8002). Exit code 0 when /healthz answers 2xx, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.request

DEFAULT_PORTS = {
    "intake": 8001,
    "routing": 8002,
    "surveys": 8003,
    "notifications": 8004,
    "indicators": 8005,
}


def _port() -> int:
    explicit = os.environ.get("ATIENDE_HTTP_PORT")
    if explicit:
        return int(explicit)
    try:
        with open("/proc/1/cmdline", "rb") as fh:
            argv = [a.decode() for a in fh.read().split(b"\0") if a]
    except OSError:
        argv = []
    for i, arg in enumerate(argv[:-1]):
        if arg == "serve":
            return DEFAULT_PORTS.get(argv[i + 1], 8001)
    return 8001


def main() -> int:
    url = f"http://127.0.0.1:{_port()}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if 200 <= response.status < 300 else 1
    except Exception as exc:  # any failure means unhealthy
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
