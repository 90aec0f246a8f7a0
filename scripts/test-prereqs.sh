#!/usr/bin/env bash
# What the test suite needs from the machine before it runs: the PostgreSQL 15 the integration suites
# use, Debian's Chromium for the dashboard test, and promtool for the alert rules. A fresh machine of
# our kind has PostgreSQL installed (maybe stopped) but neither of the others; both come from Debian's
# packages. Nothing here is skipped quietly: a missing piece fails the suite later with a clear message.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "test-prereqs: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-prereqs: installing ${missing[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test-prereqs: missing ${missing[*]}; install them (apt-get install chromium prometheus) or the dashboard/alert tests will fail" >&2
  fi
fi
