"""Two hosts behind the deploy kit's own nginx site (deploy/nginx-sentra.conf, round-robin over two
gunicorn "hosts" on two loopback ports, each with its own instance folder), one PostgreSQL, and a job
worker per host — the national deployment in small.

What must hold: a login made on one host works on the other; login throttling counts across both;
a job enqueued by either host runs exactly once; sales made through either host show in one report;
a photo uploaded through one host is served by the other.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from core.jobs.models import Job, JobState
from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import stock_in
from tests.jobs.conftest import wait_for
from tests.ops.conftest import BIN, ROOT, Buyer, Counter, Gunicorn, _base_env, _free_port

pytestmark = pytest.mark.slow


def nginx_config(workdir: Path, hosts: list[int], http_port: int, https_port: int, cert: str, key: str) -> Path:
    """deploy/nginx-sentra.conf with only this machine's paths and ports put in, inside a minimal
    nginx.conf that keeps every file in `workdir`."""
    site = (ROOT / "deploy" / "nginx-sentra.conf").read_text()
    upstream = "".join(f"    server 127.0.0.1:{port};\n" for port in hosts)
    site = re.sub(r"    server 127\.0\.0\.1:8000;\n    # server 10\.0\.0\.12:8000;\n", upstream, site)
    for old, new in (("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""),
                     ("/etc/letsencrypt/live/sentra.example.go.id/fullchain.pem", cert),
                     ("/etc/letsencrypt/live/sentra.example.go.id/privkey.pem", key),
                     ("/opt/sentra/static/", f"{ROOT}/static/"), ("/var/www/html", str(workdir))):
        assert old in site, f"deploy/nginx-sentra.conf no longer has {old!r}"
        site = site.replace(old, new)
    # which host answered: for the test only
    site = site.replace("        proxy_redirect off;\n", "        proxy_redirect off;\n"
                        "        add_header X-Upstream $upstream_addr always;\n")
    user = "user root;\n" if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0" else ""
    config = workdir / "nginx.conf"
    temp = workdir / "nginx-temp"
    temp.mkdir(exist_ok=True)
    config.write_text(f"""{user}worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {workdir}/nginx-access.log;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
{site}
}}
""")
    return config


@dataclass
class TwoHosts:
    url: str
    cert: str
    hosts: list[Gunicorn]


@pytest.fixture(scope="module")
def two_hosts(pg_stack, localstripe, tmp_path_factory) -> Iterator[TwoHosts]:
    from tests.conftest import make_loopback_certificate

    cert, key = make_loopback_certificate(tmp_path_factory.mktemp("nginx-tls"))
    secret = secrets.token_urlsafe(48)
    hosts, workers = [], []
    try:
        for name in ("a", "b"):
            instance = pg_stack.workdir / f"host-{name}"
            settings = {"SECRET_KEY": secret, "TRUSTED_PROXIES": "1", "INSTANCE_DIR": str(instance),
                        "UPLOAD_DIR": str(instance / "uploads"), "MAIL_DIR": str(pg_stack.workdir / "mail"),
                        "STRIPE_API_BASE": localstripe, "REQUEST_LOG": "0", "JOB_QUEUE_URL": ""}
            hosts.append(Gunicorn(pg_stack, workers=2, extra_env=settings))
            env = {**_base_env(pg_stack.workdir, pg_stack.app_url), **settings}
            log = (pg_stack.workdir / f"worker-{name}.log").open("wb")
            workers.append(subprocess.Popen([str(BIN / "flask"), "jobs", "worker"], cwd=ROOT, env=env,
                                            stdout=log, stderr=subprocess.STDOUT))
        http_port, https_port = _free_port(), _free_port()
        config = nginx_config(pg_stack.workdir, [h.port for h in hosts], http_port, https_port, cert, key)
        check = subprocess.run(["nginx", "-t", "-c", str(config)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen(["nginx", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"https://127.0.0.1:{https_port}"
        wait_for(lambda: _answers(url + "/health", cert), what="nginx to answer")
        yield TwoHosts(url, cert, hosts)
    finally:
        if "nginx" in locals():
            nginx.terminate()
            nginx.wait(timeout=10)
        for process in workers:
            process.terminate()
            process.wait(timeout=30)
        for host in hosts:
            host.stop()


def _answers(url: str, cert: str) -> bool:
    try:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(url, verify=cert, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _trusting(session: requests.Session, two_hosts: TwoHosts) -> requests.Session:
    """Trust the test certificate — and only it: no CA bundle from the environment (which
    requests would otherwise prefer to the session's own `verify`)."""
    session.trust_env = False
    session.verify = two_hosts.cert
    session.headers["Referer"] = two_hosts.url + "/"  # as a browser sends it (Referrer-Policy: same-origin)
    return session


def _seed(pg_stack, code: str):
    with pg_stack.app.app_context():
        sentra = SentraFactory(code=code, hold_days=0)
        manager = UserFactory(role=Role.MANAGER, sentras=[sentra])
        kasirs = [UserFactory(role=Role.KASIR, sentras=[sentra]) for _ in range(2)]
        product = ProductFactory(sentra=sentra, price=45_000, is_published=True, name="Batik Ciprat Biru")
        stock_in(product, 10)
        db.session.commit()
        return sentra.id, manager.email, [k.email for k in kasirs], product.id


def _upstreams(responses) -> set[str]:
    return {r.headers.get("X-Upstream") for r in responses}


def test_a_login_made_through_one_host_works_on_the_other(two_hosts, pg_stack):
    _sentra, manager, _kasirs, _product = _seed(pg_stack, "TH1")
    counter = Counter(two_hosts.url, manager, TEST_PASSWORD)
    _trusting(counter.http, two_hosts)
    counter.login()
    pages = [counter.http.get(two_hosts.url + "/staf", allow_redirects=False, timeout=30) for _ in range(6)]
    assert [p.status_code for p in pages] == [200] * 6
    assert _upstreams(pages) == {f"127.0.0.1:{h.port}" for h in two_hosts.hosts}  # both hosts answered


def test_login_throttling_holds_across_both_hosts(two_hosts, pg_stack):
    _sentra, manager, _kasirs, _product = _seed(pg_stack, "TH2")
    http = _trusting(requests.Session(), two_hosts)
    page = http.get(two_hosts.url + "/accounts/masuk", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answers = [http.post(two_hosts.url + "/accounts/masuk", allow_redirects=False, timeout=30,
                         data={"csrf_token": token, "email": manager, "password": "salah-sekali"}) for _ in range(6)]
    assert len(_upstreams(answers)) == 2  # the guesses went to both hosts, in turn
    # LOGIN_FREE_FAILURES (3) wrong passwords cost nothing; then every host makes the guesser wait.
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429, 429]
    # … and the right password too, on either host, until the wait is over (never a lock-out).
    right = http.post(two_hosts.url + "/accounts/masuk", allow_redirects=False, timeout=30,
                      data={"csrf_token": token, "email": manager, "password": TEST_PASSWORD})
    assert right.status_code == 429


def test_sales_through_either_host_show_in_one_report_and_each_job_runs_once(two_hosts, pg_stack):
    sentra_id, manager, kasirs, product_id = _seed(pg_stack, "TH3")
    for host, email in zip(two_hosts.hosts, kasirs, strict=True):
        counter = Counter(host.url, email, TEST_PASSWORD).login().open_shift(sentra_id)
        sold = counter.sell(str(uuid.uuid4()), [{"product_id": product_id, "quantity": 1}],
                            [{"method": "cash", "amount": 45_000, "tendered": 50_000}])
        assert sold.status_code == 201, sold.text
    # An online order through nginx: its confirmation e-mail is a job that one of the two workers runs.
    buyer = Buyer(two_hosts.url)
    _trusting(buyer.http, two_hosts)
    assert buyer.add(product_id).status_code == 302
    placed = buyer.checkout()
    assert placed.status_code == 302, placed.text[:500]
    manager_http = Counter(two_hosts.url, manager, TEST_PASSWORD)
    _trusting(manager_http.http, two_hosts)
    manager_http.login()
    report = manager_http.http.get(two_hosts.url + "/reports/", timeout=30)
    assert report.status_code == 200 and "Rp 90.000" in report.text
    with pg_stack.app.app_context():
        def delivered() -> bool:
            state = db.session.scalar(sa.select(Job.state).where(Job.name == "mail.deliver"))
            db.session.rollback()
            return state == JobState.DONE
        wait_for(delivered, what="a worker to send the confirmation", timeout=60)
        job = db.session.scalar(sa.select(Job).where(Job.name == "mail.deliver"))
        assert job.attempts == 1
    assert len(list((pg_stack.workdir / "mail").glob("*.eml"))) == 1


def test_a_photo_uploaded_through_one_host_is_served_by_the_other(two_hosts, pg_stack):
    import io

    from PIL import Image

    _sentra, manager, _kasirs, product_id = _seed(pg_stack, "TH4")
    host_a, host_b = two_hosts.hosts
    staff = Counter(host_a.url, manager, TEST_PASSWORD).login()
    form = staff._token(f"/inventory/produk/{product_id}")
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 40, 90)).save(picture, "JPEG")
    uploaded = staff.http.post(f"{host_a.url}/inventory/produk/{product_id}/foto", allow_redirects=False,
                               timeout=30, data={"csrf_token": form},
                               files={"photo": ("batik.jpg", picture.getvalue(), "image/jpeg")})
    assert uploaded.status_code == 302, uploaded.text[:500]
    page = requests.get(f"{host_a.url}/produk/{product_id}", timeout=30)
    photo_path = re.search(r'/inventory/berkas/[0-9a-f]{64}\.webp', page.text).group(0)
    served = requests.get(host_b.url + photo_path, timeout=30)  # the other host, which never saw the upload
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(served.content)).size[0] in (400, 640)
    assert not list((pg_stack.workdir / "host-a").rglob("*.webp"))  # nothing on either host's disk
