"""One helper renders every PDF: a Jinja template under `templates/pdf/` through WeasyPrint.

Fonts come from `static/fonts` (shipped with the app) and every URL is resolved locally, so
rendering never touches the network. WeasyPrint ignores `size: 80mm auto`, so roll-paper
documents (receipts, Z-reports) are laid out once on a very tall page, measured, and the page is
cut to their content's height.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

MM_PER_PX = 25.4 / 96
ROLL_DRAFT_HEIGHT_MM = 3000


def _url_fetcher(url: str, *args, **kwargs):
    """Serve `static/` files from disk and refuse everything else (no network fetches).

    The path is percent-decoded once — as WeasyPrint will when it opens the file — before it is
    checked to stay inside `static/` (`%2e%2e/` and `..%2f` used to escape); a `%` still left after
    that decoding (double encoding), a query or a fragment is refused outright.
    """
    from weasyprint import default_url_fetcher

    assert current_app.static_folder is not None
    static = Path(current_app.static_folder).resolve()
    if url.startswith("file://"):
        parts = urlsplit(url)
        decoded = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment or "%" in decoded \
                or "\x00" in decoded:
            raise ValueError(f"PDF resource not allowed: {url}")
        path = Path(decoded).resolve()
        if path.is_relative_to(static):
            return default_url_fetcher(path.as_uri(), *args, **kwargs)
    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"PDF resource not allowed: {url}")


_per_thread = threading.local()
# Drop the main thread's fonts before interpreter teardown (their finaliser needs the C library).
atexit.register(lambda: _per_thread.__dict__.clear())


def _fonts():
    """One FontConfiguration per thread, so the shipped fonts are loaded once, not per PDF
    (not shared across threads: it wraps fontconfig/pango state)."""
    if not hasattr(_per_thread, "font_config"):
        from weasyprint.text.fonts import FontConfiguration

        _per_thread.font_config = FontConfiguration()
    return _per_thread.font_config


def _document(html: str):
    from weasyprint import HTML

    assert current_app.static_folder is not None
    base_url = Path(current_app.static_folder).resolve().as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=_url_fetcher).render(font_config=_fonts())


def render_pdf(template: str, *, roll_width_mm: int | None = None, **context) -> bytes:
    """Render `templates/pdf/<template>` to PDF bytes.

    With `roll_width_mm` (e.g. 80 for a thermal receipt) the page is that wide and exactly as
    tall as its content; otherwise the template's own `@page` size applies (A4).
    """
    html_context = dict(context, roll_width_mm=roll_width_mm)
    if roll_width_mm is None:
        html = render_template(f"pdf/{template}", page_height_mm=None, **html_context)
        return _document(html).write_pdf()

    html = render_template(f"pdf/{template}", page_height_mm=ROLL_DRAFT_HEIGHT_MM, **html_context)
    document = _document(html)
    # Content is laid out from the top of the tall draft page; cutting the page to the content's
    # height keeps every box where it is (one layout pass instead of two).
    page = document.pages[0]
    page.height = (_content_height_mm(document) + 2) / MM_PER_PX
    return document.write_pdf()


def _content_height_mm(document) -> float:
    """Height of the laid-out content of the first page, in millimetres."""
    page = document.pages[0]
    bottom = 0.0

    def walk(box):
        nonlocal bottom
        y = getattr(box, "position_y", 0) + getattr(box, "margin_height", lambda: 0)()
        bottom = max(bottom, y)
        for child in getattr(box, "children", []) or []:
            walk(child)

    # The page box itself is as tall as the draft page: measure what is laid out inside it.
    for child in page._page_box.children:
        walk(child)
    return bottom * MM_PER_PX
