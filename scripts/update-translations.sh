#!/usr/bin/env bash
# Re-extract every translatable string and merge it into translations/en/LC_MESSAGES/messages.po.
# New entries arrive with an empty msgstr: translate them by hand (keep %(name)s placeholders),
# then check with `.venv/bin/pytest -q tests/core/test_english_ui.py`. `make translations`
# compiles the .mo (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
POT=$(mktemp /tmp/messages.XXXXXX.pot)
trap 'rm -f "$POT"' EXIT
"$BIN/pybabel" -q extract -F babel.cfg -k _l -k lazy_gettext -o "$POT" \
  --project "Sentra Kreasi ATENSI" --no-wrap --sort-by-file \
  --ignore-dirs=".venv migrations tests node_modules bench" .
# labels shown through `_(enum.label)` in templates: see scripts/dynamic_labels.py
"$BIN/python" -m scripts.dynamic_labels "$POT"
"$BIN/pybabel" -q update -i "$POT" -d translations -l en --no-fuzzy-matching --no-wrap --ignore-obsolete
"$BIN/pybabel" compile -d translations --statistics
grep -c '^msgstr ""$' translations/en/LC_MESSAGES/messages.po | sed 's/$/ empty msgstr lines (1 is the header)/' || true
