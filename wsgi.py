"""WSGI entry point: `gunicorn wsgi:app` (see gunicorn.conf.py and `make serve`)."""

import os

from werkzeug.middleware.proxy_fix import ProxyFix
from whitenoise import WhiteNoise

from app import create_app

app = create_app()
# Static files straight from the WSGI layer, with caching headers, before Flask is involved.
app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix="static/", max_age=3600)  # type: ignore[method-assign]

# Behind a reverse proxy, trust exactly that many X-Forwarded-* hops (login throttling is per
# client address; without this every buyer would share the proxy's address).
if proxies := int(os.environ.get("TRUSTED_PROXIES", "0")):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
