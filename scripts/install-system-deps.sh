#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need, only when missing.
# PostgreSQL 15 (test server), WeasyPrint's pango/harfbuzz, fonts, poppler (pdftotext)
# and Debian's chromium (browser tests; Playwright cannot download browsers here).
#   scripts/install-system-deps.sh        what `make run` needs
#   scripts/install-system-deps.sh test   also what only the tests start: nginx (the two-host test),
#                                         redis-server (a queue that goes down and comes back), openssl
set -euo pipefail
want=(postgresql libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
      poppler-utils chromium)
if [ "${1:-}" = test ]; then
  want+=(nginx-light redis-server openssl)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ "${1:-}" = test ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  # The tests start their own nginx and Redis on loopback ports: the packages' services stay off.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
