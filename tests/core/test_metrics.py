"""/metrics: Prometheus text, only for loopback or the METRICS_TOKEN bearer."""

from __future__ import annotations

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def test_loopback_gets_the_metrics(client):
    client.get("/health")
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert 'sentra_http_requests_total{method="GET",endpoint="app.health",status="200"}' in body
    assert 'sentra_http_request_duration_seconds_bucket{le="+Inf"}' in body
    assert "sentra_sales_last_minute 0" in body
    assert 'sentra_jobs{state="failed"} 0' in body and "sentra_jobs_overdue 0" in body


def test_ipv6_loopback_gets_the_metrics(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_another_address_gets_404(client):
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404


def test_token(app, client):
    app.config["METRICS_TOKEN"] = "metrics-token-for-the-test"
    ok = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer metrics-token-for-the-test"})
    assert ok.status_code == 200 and "sentra_sales_last_minute" in ok.get_data(as_text=True)
    wrong = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 404
    assert client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer "}).status_code == 404


def test_the_env_example_is_refused_in_production():
    from pathlib import Path

    import config

    values = {}
    for line in (Path(config.BASE_DIR) / "deploy" / "sentra.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    assert config.secret_key_problems(values["SECRET_KEY"])
    assert config.stripe_problems(values["STRIPE_SECRET_KEY"], values["STRIPE_PUBLISHABLE_KEY"],
                                  values["STRIPE_WEBHOOK_SECRET"], values["STRIPE_API_BASE"], test_mode=False)
    names = set(values)
    for setting in ("DATABASE_URL", "SECRET_KEY", "METRICS_TOKEN", "TRUSTED_PROXIES", "MAIL_DIR", "INSTANCE_DIR"):
        assert setting in names
