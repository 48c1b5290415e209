"""WSGI entry point: `gunicorn wsgi:app` (see gunicorn.conf.py and `make serve`)."""

from whitenoise import WhiteNoise

from core import create_app

app = create_app()
# Static files straight from the WSGI layer, with caching headers, before Flask is involved.
app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix="static/", max_age=3600)
