"""The English UI is real: key pages switch to English, and every message has a translation.

Message ids are Indonesian; English lives in `translations/en/LC_MESSAGES/messages.po`.
When you add or change a `_("…")` / `_l("…")` string (or an enum `.label`, a staff-menu entry,
a catalogue sort label…), run `scripts/update-translations.sh`, translate the new entries in the
.po by hand (keep `%(name)s` placeholders exactly) and commit the .po. `test_catalogue_is_complete`
fails until then.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.extensions import db
from pos.services import close_shift, open_shift
from scripts.dynamic_labels import dynamic_labels
from tests.factories import SentraFactory, UserFactory
from tests.factories.shop import ShopProductFactory

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
#: the same folders scripts/update-translations.sh leaves out of the extraction
IGNORED_DIRS = {".venv", "migrations", "tests", "node_modules", "bench"}
HINT = "run scripts/update-translations.sh and translate the new entries in " + str(PO_PATH.relative_to(ROOT))


def read_catalogue():
    with PO_PATH.open("rb") as handle:
        return read_po(handle, locale="en")


def translations() -> dict[str, str]:
    """Indonesian msgid → English, only where the English differs (e.g. not "Sentra", "SKU")."""
    return {m.id: m.string for m in read_catalogue() if m.id and m.string and m.string != m.id}


# -- the catalogue ------------------------------------------------------------------------------

def extracted_message_ids() -> set[str]:
    """Every message id in the source, extracted like scripts/update-translations.sh does."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

    def keep(path: str) -> bool:
        name = Path(path).name
        return name not in IGNORED_DIRS and not name.startswith((".", "_"))

    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, directory_filter=keep,
    ):
        ids.update([message] if isinstance(message, str) else [m for m in message if m])
    return ids


def test_catalogue_is_complete():
    """Every message has an English translation, none is fuzzy, placeholders match.

    If this fails: run `scripts/update-translations.sh`, translate every empty msgstr in
    translations/en/LC_MESSAGES/messages.po by hand, and commit the .po.
    """
    catalogue = read_catalogue()
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 500
    untranslated = [m.id for m in messages if not m.string or (m.pluralizable and not all(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated[:20]} — {HINT}"
    assert not fuzzy, f"fuzzy (check and remove the flag): {fuzzy[:20]}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert not problems, f"placeholder or format problems: {problems[:20]}"


def test_catalogue_is_up_to_date_with_the_source():
    """A new `_("…")` in code or templates (or a new dynamic label) without a translation fails here.

    Fix: `scripts/update-translations.sh`, then translate the new, empty entries in the .po.
    """
    known = {m.id for m in read_catalogue() if m.id and m.string}
    in_source = extracted_message_ids()
    assert "Masuk staf Sentra" in in_source and "Buka sesi kasir" in in_source  # the extraction works
    missing = sorted((in_source | set(dynamic_labels())) - known)
    assert not missing, f"no English for {missing[:20]} — {HINT}"


def test_placeholders_and_domain_words_are_kept():
    english = translations()
    assert english["Selamat datang, %(name)s"] == "Welcome, %(name)s"
    assert english["Stok %(name)s disesuaikan (%(delta)+d)."].count("%(delta)+d") == 1
    assert english["Kasir"] == "Cashier"
    assert english["Omset"] == "Turnover"
    assert english["Struk"] == "Receipt"
    assert "consignment" in english["Terima titipan"].lower()
    assert "payout" in english["Pencairan disetujui."].lower()
    assert "beneficiary maker" in english["Pembuat (penerima manfaat)?"]


# -- pages --------------------------------------------------------------------------------------

class VisibleText(HTMLParser):
    """Text nodes and user-visible attributes (labels for screen readers too), script/style left out."""

    ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        self.texts += [values[a] for a in self.ATTRIBUTES if values.get(a)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def visible_texts(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    normalised = (re.sub(r"\s+", " ", text).strip().rstrip(":·").strip() for text in parser.texts)
    return {text for text in normalised if text}


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def switch_to_english(client, csrf) -> None:
    response = client.post("/bahasa", data={"csrf_token": csrf(), "lang": "en", "next": "/"})
    assert response.status_code == 302


def staff_login_page(login_as) -> str:
    return "/accounts/masuk"


def maker_login_page(login_as) -> str:
    return "/accounts/masuk-pembuat"


def shop_home(login_as) -> str:
    ShopProductFactory(name="Batik Ciprat Merah", stock=3)
    return "/"


def catalogue(login_as) -> str:
    ShopProductFactory(name="Batik Ciprat Biru", stock=2)
    return "/katalog"


def kasir(login_as):
    user = UserFactory(name="Kasir Wati", sentras=[SentraFactory()])
    login_as(user)
    return user


def staff_home(login_as) -> str:
    kasir(login_as)
    return "/staf"


def pos_open_shift_form(login_as) -> str:
    kasir(login_as)
    return "/pos/"


def open_shift_for(login_as):
    user = kasir(login_as)
    shift = open_shift(user, user.sentras[0], 200_000)
    db.session.commit()
    return shift


def pos_sale_screen(login_as) -> str:
    return f"/pos/sesi/{open_shift_for(login_as).id}/jual"


def pos_shift_page(login_as) -> str:
    return f"/pos/sesi/{open_shift_for(login_as).id}"


def pos_closed_shift_page(login_as) -> str:
    shift = open_shift_for(login_as)
    close_shift(shift.cashier, shift, {"100000": 2})
    db.session.commit()
    return f"/pos/sesi/{shift.id}"


#: page → (Indonesian texts it shows by default, their English in the English UI)
PAGES = {
    "staff login": (staff_login_page, ["Masuk staf Sentra", "Kata sandi", "Masuk"],
                    ["Sentra staff sign-in", "Password", "Sign in"]),
    "maker login": (maker_login_page, ["Masuk untuk melihat pendapatan Anda", "Nomor HP", "PIN (6 angka)"],
                    ["Sign in to see your earnings", "Mobile number", "PIN (6 digits)"]),
    "shop home": (shop_home, ["Karya penerima manfaat Sentra Kreasi ATENSI", "Pilihan hari ini", "tersisa 3"],
                  ["Made by beneficiary makers of Sentra Kreasi ATENSI", "Today's picks", "3 left"]),
    "catalogue": (catalogue, ["Cari dan saring", "Urutkan", "Terbaru", "Hanya yang tersedia", "Katalog"],
                  ["Search and filter", "Sort by", "Newest", "Available only", "Catalogue"]),
    "staff home": (staff_home, ["Selamat datang, Kasir Wati", "Peran", "Kasir", "Kasir (POS)", "Keluar"],
                   ["Welcome, Kasir Wati", "Role", "Cashier", "Cashier (POS)", "Sign out"]),
    "pos open shift": (pos_open_shift_form, ["Buka sesi kasir", "Modal awal kas (uang di laci)", "Buka sesi"],
                       ["Open a cashier shift", "Opening float (cash in the drawer)", "Open shift"]),
    "pos sale screen": (pos_sale_screen, ["Keranjang", "Bayar", "Kosongkan keranjang", "Tombol pintas"],
                        ["Cart", "Pay", "Empty the cart", "Keyboard shortcuts"]),
    "pos shift page": (pos_shift_page, ["Terbuka", "Ringkasan", "Ringkasan sesi", "Kembali ke kasir", "Tutup sesi"],
                       ["Open", "Summary", "Shift summary", "Back to the till", "Close shift"]),
    "pos closed shift": (pos_closed_shift_page, ["Ditutup", "Laporan Z (PDF)", "Kas yang diharapkan", "Buka sesi baru"],
                         ["Closed", "Z report (PDF)", "Expected cash", "Open a new shift"]),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_is_indonesian_by_default(client, login_as, page):
    setup, indonesian, english = PAGES[page]
    response = client.get(setup(login_as))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    texts = visible_texts(html)
    assert html_lang(html) == "id"
    assert [t for t in indonesian if t not in texts] == []
    assert [t for t in english if t in texts and t not in indonesian] == []


@pytest.mark.parametrize("page", list(PAGES))
def test_page_is_english_after_switching_language(client, csrf, login_as, page):
    setup, indonesian, english = PAGES[page]
    url = setup(login_as)
    switch_to_english(client, csrf)
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    texts = visible_texts(html)
    assert html_lang(html) == "en"
    assert [t for t in english if t not in texts] == []
    assert [t for t in indonesian if t in texts and t not in english] == []
    # nothing on the page is still an Indonesian message id with a different English translation
    left_in_indonesian = sorted(texts & set(translations()))
    assert left_in_indonesian == [], f"shown in Indonesian on the English {page}: {left_in_indonesian}"


def test_english_survives_on_the_next_pages_and_can_be_switched_back(client, csrf, login_as):
    kasir(login_as)
    switch_to_english(client, csrf)
    assert "Welcome, Kasir Wati" in visible_texts(client.get("/staf").get_data(as_text=True))
    assert "Open a cashier shift" in visible_texts(client.get("/pos/").get_data(as_text=True))
    client.post("/bahasa", data={"csrf_token": csrf(), "lang": "id"})
    texts = visible_texts(client.get("/staf").get_data(as_text=True))
    assert "Selamat datang, Kasir Wati" in texts and "Welcome, Kasir Wati" not in texts


def test_session_language_set_directly_also_works(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    texts = visible_texts(client.get("/accounts/masuk-pembuat").get_data(as_text=True))
    assert "Maker sign-in" in texts and "Masuk pembuat" not in texts


def test_form_errors_and_flash_messages_are_english(client, csrf, login_as):
    kasir(login_as)
    switch_to_english(client, csrf)
    # an empty opening float: the form's own (lazy) validation message is translated
    user_sentra = client.get("/pos/").get_data(as_text=True)
    sentra_id = re.search(r'<option value="(\d+)"', user_sentra).group(1)
    page = client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra_id, "opening_float": ""})
    assert "The opening float is required (0 is allowed)." in page.get_data(as_text=True)
    opened = client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra_id, "opening_float": "200000"},
                         follow_redirects=True)
    assert "Cashier shift opened." in opened.get_data(as_text=True)
    assert "Sesi kasir dibuka." not in opened.get_data(as_text=True)
