#!/usr/bin/env bash
# Local Stripe for `make run`: localstripe on 127.0.0.1 (loopback only), started from scratch,
# its webhook pointed at the Flask app, stopped by its PID.
#   scripts/localstripe.sh start|stop|status
# Settings: LOCALSTRIPE_PORT (8420), APP_URL (http://127.0.0.1:5000), STRIPE_WEBHOOK_SECRET (whsec_local).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${LOCALSTRIPE_PORT:-8420}"
APP_URL="${APP_URL:-http://127.0.0.1:5000}"
SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local}"
PIDFILE="${INSTANCE_DIR:-instance}/localstripe.pid"
LOG="${INSTANCE_DIR:-instance}/localstripe.log"
mkdir -p "${INSTANCE_DIR:-instance}"

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if running; then
    echo "localstripe already running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PORT"
  else
    # localstripe's own CLI binds every interface; serve its app on loopback only.
    nohup "$PY" -c "import sys
from aiohttp import web
from localstripe.server import app
web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)" "$PORT" >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
  fi
  # Wait until it answers, then (re-)register the webhook (localstripe keeps webhooks in memory).
  "$PY" - "$PORT" "$APP_URL/stripe/webhook" "$SECRET" <<'PYEOF'
import sys, threading, urllib.parse, urllib.request
port, url, secret = sys.argv[1:4]
base = f"http://127.0.0.1:{port}"
for _ in range(150):
    try:
        req = urllib.request.Request(f"{base}/v1/customers", headers={"Authorization": "Bearer sk_test_probe"})
        urllib.request.urlopen(req, timeout=1).close()
        break
    except OSError:
        threading.Event().wait(0.1)
else:
    sys.exit(f"localstripe did not start on {base}; see instance/localstripe.log")
data = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
urllib.request.urlopen(urllib.request.Request(f"{base}/_config/webhooks/sentra-app", data=data), timeout=5).close()
print(f"localstripe on {base} (webhook -> {url})")
PYEOF
}

stop() {
  if running; then
    kill "$(cat "$PIDFILE")" && echo "localstripe stopped (pid $(cat "$PIDFILE"))"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "stopped"; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
