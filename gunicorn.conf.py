"""gunicorn settings for `make serve` (override with environment variables)."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = 60
graceful_timeout = 20
# The app logs one JSON line per request itself (core/request_log.py).
accesslog = None
errorlog = "-"
# Import the app once in the master: workers fork with WeasyPrint already loaded.
preload_app = True
