#!/bin/sh
# Headless Chromium from Debian's package, for the browser test of the demo's HTML report
# (tests/e2e/test_demo_report.py, driven by Playwright). Idempotent; prints the browser's
# path on success.
#
#   scripts/install-browser.sh
#
# Installs the package `chromium` with apt-get (as root). Playwright's own browser download
# (`playwright install`) is not used: it needs a CDN that CI machines may not reach, while
# Debian's mirror is already configured. No service is started by the install: a
# policy-rc.d that denies it is in place for the duration (containers usually have one).
# On another system, install Chromium or Chrome any way you like and point
# SENTINEL_CHROMIUM at its executable (or put `chromium` on PATH).
set -eu

have() { command -v "$1" >/dev/null 2>&1; }

if [ -n "${SENTINEL_CHROMIUM:-}" ] && [ -x "$SENTINEL_CHROMIUM" ]; then
    echo "$SENTINEL_CHROMIUM"
    exit 0
fi
if have chromium; then
    command -v chromium
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "install-browser: install the Debian package chromium (as root: sudo $0)," \
        "or set SENTINEL_CHROMIUM to a Chromium or Chrome executable" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
# stale package lists name versions the mirror no longer has: refresh them only then
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium
