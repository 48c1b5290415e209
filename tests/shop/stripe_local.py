"""A real localstripe on loopback for the shop tests: start, wait until it answers, stop by PID."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import stripe

from shop.stripe_gateway import StripeGateway

LOCALSTRIPE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "localstripe"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    request = urllib.request.Request(f"{url}/v1/customers", headers={"Authorization": "Bearer sk_test_probe"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


@contextmanager
def running_localstripe():
    """Yield the base URL of a fresh localstripe; the process is stopped by its PID afterwards."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="localstripe-")
    log = open(Path(workdir) / "localstripe.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([str(LOCALSTRIPE), "--port", str(port), "--from-scratch"], stdout=log,
                               stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        waiter = threading.Event()
        for _ in range(150):  # up to ~15 s on a busy machine
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {(Path(workdir) / 'localstripe.log').read_text()}")
            if _answers(url):
                break
            waiter.wait(0.1)
        else:
            raise RuntimeError("localstripe did not start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def register_webhook(stripe_url: str, target_url: str, secret: str, hook_id: str = "tests") -> None:
    data = urllib.parse.urlencode({"url": target_url, "secret": secret}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{stripe_url}/_config/webhooks/{hook_id}", data=data),
                                timeout=5) as response:
        assert response.status == 200


def wipe(stripe_url: str) -> None:
    request = urllib.request.Request(f"{stripe_url}/_config/data", method="DELETE")
    with urllib.request.urlopen(request, timeout=5):
        pass


class WebhookGate:
    """WSGI wrapper for the test server: only events for PaymentIntents of the running test get
    through (a late delivery from a previous test is answered 200 and dropped), and every event
    that got through is announced, so tests wait for it instead of sleeping."""

    def __init__(self, app):
        self.app = app
        self.allowed: set[str] = set()
        self.delivered: list[tuple[str, str, int]] = []
        self.condition = threading.Condition()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/stripe/webhook":
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            event = json.loads(body)
            intent_id = event["data"]["object"]["id"]
        except (ValueError, KeyError, TypeError):
            event, intent_id = {}, None
        with self.condition:
            allowed = intent_id in self.allowed
        if not allowed:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"dropped": true}']
        environ["wsgi.input"] = io.BytesIO(body)
        status_holder = {}

        def capture(status, headers, exc_info=None):
            status_holder["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        chunks = list(self.app(environ, capture))
        with self.condition:
            self.delivered.append((intent_id, event.get("type", ""), status_holder.get("status", 0)))
            self.condition.notify_all()
        return chunks

    def reset(self) -> None:
        with self.condition:
            self.allowed.clear()
            self.delivered.clear()

    def wait_for(self, intent_id: str, event_type: str, timeout: float = 15) -> int:
        """Wait until the event for `intent_id` was delivered and processed; returns the HTTP status."""
        def found():
            return next((s for i, t, s in self.delivered if i == intent_id and t == event_type), None)

        from core.extensions import db

        db.session.commit()  # end the test thread's transaction: on SQLite it holds the write lock
        with self.condition:
            if not self.condition.wait_for(lambda: found() is not None, timeout=timeout):
                raise AssertionError(f"no {event_type} webhook for {intent_id}")
            return found()


class RecordingGateway(StripeGateway):
    """The real gateway, also telling the webhook gate which intents belong to the running test."""

    def __init__(self, *args, gate: WebhookGate, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = gate

    def _allow(self, result):
        if result.intent_id:
            with self.gate.condition:
                self.gate.allowed.add(result.intent_id)
        return result

    def pay(self, **kwargs):
        return self._allow(super().pay(**kwargs))

    def authenticate_test(self, *args, **kwargs):
        return self._allow(super().authenticate_test(*args, **kwargs))


class IdempotentHTTP(stripe.HTTPClient):
    """The HTTP client under the gateway, in front of localstripe, enforcing idempotency keys as real
    Stripe does (localstripe ignores them): a POST with a key seen before gets the first answer again,
    or 400 `idempotency_error` if its parameters differ. `lose_next_answer` lets the next call reach
    localstripe and then fail as if the connection dropped before the answer came back."""

    name = "idempotent-localstripe"

    def __init__(self):
        super().__init__()
        self.inner = stripe.new_default_http_client()
        self.first: dict[str, tuple[str | None, tuple]] = {}
        self.keys: list[str] = []
        self.lose_next_answer = False

    def request(self, method, url, headers, post_data=None):
        key = headers.get("Idempotency-Key") if method == "post" else None
        if key:
            self.keys.append(key)
        if key in self.first:
            sent, answer = self.first[key]
            if sent != post_data:
                return json.dumps({"error": {"type": "idempotency_error", "message": (
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    "used with.")}}), 400, {}
            return answer
        answer = self.inner.request(method, url, headers, post_data)
        if key:
            self.first[key] = (post_data, answer)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise stripe.APIConnectionError("the answer was lost")
        return answer

    def close(self):
        self.inner.close()
