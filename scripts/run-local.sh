#!/usr/bin/env bash
# `make run`: the app on http://127.0.0.1:5000 with a job worker beside it and, unless STRIPE_LOCAL=0,
# the local Stripe server (scripts/localstripe.sh). Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
worker=""
stop_all() {
  [ -n "$worker" ] && kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null || true
  if [ "${STRIPE_LOCAL:-1}" = 1 ]; then bash scripts/localstripe.sh stop || true; fi
}
trap stop_all EXIT
if [ "${STRIPE_LOCAL:-1}" = 1 ]; then
  bash scripts/localstripe.sh start
  export STRIPE_API_BASE="http://127.0.0.1:${LOCALSTRIPE_PORT:-8420}"
fi
# The worker runs e-mail, refunds, expired stock holds and the nightly backup (core/jobs).
"$BIN/flask" jobs worker --threads 2 &
worker=$!
"$BIN/flask" run --host 127.0.0.1 --port 5000
