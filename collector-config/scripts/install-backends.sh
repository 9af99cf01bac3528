#!/bin/sh
# Prometheus, promtool, Alertmanager and amtool from Debian's packages, for the backend
# tests (tests/backend). Idempotent; `make test` calls it.
#
#   collector-config/scripts/install-backends.sh
#
# Installs the packages `prometheus` and `prometheus-alertmanager` with apt-get (as root;
# Debian's Alertmanager reads its default template from /usr/share, so unpacking the
# binaries elsewhere is not enough). No service is started by the install: a policy-rc.d
# that denies it is in place for the duration (containers usually have one already).
# On another system, install Prometheus and Alertmanager any way you like and put
# promtool, amtool, prometheus and alertmanager (or prometheus-alertmanager) on PATH.
set -eu

have() { command -v "$1" >/dev/null 2>&1; }

if have prometheus && have promtool && have amtool && have prometheus-alertmanager \
    && [ -f /usr/share/prometheus/alertmanager/default.tmpl ]; then
    exit 0
fi
if have promtool && have amtool && have prometheus && have alertmanager; then
    exit 0  # an upstream install
fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "install-backends: install the Debian packages prometheus and" \
        "prometheus-alertmanager (as root: sudo $0), or put prometheus, promtool," \
        "alertmanager and amtool on PATH" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
packages="prometheus prometheus-alertmanager"
# shellcheck disable=SC2086 # the package list splits on purpose
if ! apt-get install -y -qq --no-install-recommends $packages >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi
prometheus --version 2>&1 | head -n 1
prometheus-alertmanager --version 2>&1 | head -n 1
