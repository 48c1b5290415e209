#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need, only when missing.
# PostgreSQL 15 (test server), WeasyPrint's pango/harfbuzz, fonts, poppler (pdftotext)
# and Debian's chromium (browser tests; Playwright cannot download browsers here).
set -euo pipefail
want=(postgresql libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
      poppler-utils chromium)
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
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
