"""ESC/POS bytes for thermal roll printers, built with python-escpos's `Dummy` printer.

A document is plain text in columns (font A: 32 columns on 58 mm paper, 48 on 80 mm), with bold
and double height for what the buyer must see (the total, the change), a QR code, a cut, and the
cash-drawer pulse. Everything is printed in code page PC437 (`ESC t 0`, the power-on default of
almost every ESC/POS printer), so a printer that ignores `ESC t` still prints it right; letters
outside it are folded to ASCII ("é" stays, "×" becomes "x", "ā" becomes "a").

Text from people (product names, reasons, a Sentra's header) never reaches the printer as a
command: control characters are dropped before encoding, so a product named "…\\x1bp…" cannot
open the drawer on a QRIS sale.
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import tempfile
import textwrap
import threading
import unicodedata
from pathlib import Path
from typing import Any

#: GS ( k module size (dots) for the QR code, so it stays well inside the printable width
QR_MODULE_DOTS = {58: 5, 80: 6}
#: ESC p 0 t1 t2: pulse on drawer pin 2, 50 × 2 ms on and off (the usual RJ11 drawer kick)
DRAWER_PIN = 2

_FOLD = str.maketrans({
    "×": "x", "–": "-", "—": "-", "−": "-", "·": "-", "•": "*", "…": "...", "‘": "'", "’": "'",
    "‚": ",", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\t": " ", "€": "EUR",
})
#: the capabilities file python-escpos reads at import: its default profile and one per roll width
#: (`trimmed_capabilities`; a test checks it against the installed library)
CAPABILITIES_FILE = Path(__file__).with_name("escpos_capabilities.json")


#: the printable width of each roll at 203 dpi, and font A / font B columns
ROLL_MEDIA = {58: {"mm": 48, "pixels": 384, "font_a": 32, "font_b": 42},
              80: {"mm": 72, "pixels": 576, "font_a": 48, "font_b": 64}}
#: characters per line in font A (12×24 dots) for each roll width: 384 dots on 58 mm, 576 on 80 mm
COLUMNS = {paper_mm: media["font_a"] for paper_mm, media in ROLL_MEDIA.items()}


class QrMode(enum.StrEnum):
    """How the e-receipt link is printed: by the printer's own QR command, as an image, or as text."""

    NATIVE = "native"  # GS ( k: most printers since ~2015
    IMAGE = "gambar"  # a raster image (GS v 0) for printers without GS ( k
    NONE = "tidak"  # the link as text


def printable(text: object) -> str:
    """`text` as a printer prints it: control characters dropped, folded into PC437."""
    folded = unicodedata.normalize("NFC", str(text)).translate(_FOLD)
    out = []
    for char in folded:
        if char == "\n":
            out.append(char)
        elif unicodedata.category(char).startswith("C"):
            continue  # ESC, GS, NUL, DEL, bidi controls...: never a command, never printed
        elif _in_cp437(char):
            out.append(char)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(_in_cp437(c) for c in base) else "?")
    return "".join(out)


def _in_cp437(char: str) -> bool:
    try:
        char.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


_load_lock = threading.Lock()
_dummy_class: Any = None


def _load() -> Any:
    """python-escpos's `Dummy`, imported on first use.

    The import reads a printer-capabilities database (0.5 s for the full 96 KB YAML, and a pickle
    left in a new temporary directory per process) and calls `logging.basicConfig()`. So: a trimmed
    capabilities file (`CAPABILITIES_FILE`), the pickle in a directory removed at once,
    and any handler the import adds to the root logger taken off again (our logging is JSON lines).
    """
    global _dummy_class
    with _load_lock:
        if _dummy_class is None:
            root = logging.getLogger()
            handlers = list(root.handlers)
            pickle_dir = tempfile.mkdtemp(prefix="escpos-")
            saved = {k: os.environ.get(k) for k in ("ESCPOS_CAPABILITIES_FILE", "ESCPOS_CAPABILITIES_PICKLE_DIR")}
            saved_tempdir = tempfile.tempdir
            os.environ["ESCPOS_CAPABILITIES_FILE"] = str(CAPABILITIES_FILE)
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = pickle_dir
            # It calls mkdtemp() even when told where the pickle goes: that folder goes in ours too.
            tempfile.tempdir = pickle_dir
            try:
                from escpos.printer import Dummy
            finally:
                tempfile.tempdir = saved_tempdir
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                shutil.rmtree(pickle_dir, ignore_errors=True)
                for handler in root.handlers[:]:
                    if handler not in handlers:
                        root.removeHandler(handler)
            _dummy_class = Dummy
    return _dummy_class


def trimmed_capabilities(full: dict) -> dict:
    """What `CAPABILITIES_FILE` holds: python-escpos's default profile, one profile per roll width
    (the default with its media width, so images are centred and checked to fit), and the code
    pages they name. Regenerate it from the installed library with this function."""
    default = full["profiles"]["default"]
    profiles = {"default": default}
    for paper_mm, media in ROLL_MEDIA.items():
        profiles[f"roll{paper_mm}"] = dict(
            default, name=f"Roll {paper_mm} mm", vendor="Generic",
            media={"dpi": 203, "width": {"mm": media["mm"], "pixels": media["pixels"]}},
            fonts={"0": {"columns": media["font_a"], "name": "Font A"},
                   "1": {"columns": media["font_b"], "name": "Font B"}},
        )
    names = set(default["codePages"].values())
    return {"profiles": profiles, "encodings": {k: v for k, v in full["encodings"].items() if k in names}}


class Ticket:
    """One printed document (receipt, slip, report) for a roll `paper_mm` wide."""

    def __init__(self, paper_mm: int) -> None:
        if paper_mm not in COLUMNS:
            raise ValueError(f"no ESC/POS layout for {paper_mm} mm paper")
        self.paper_mm = paper_mm
        self.columns = COLUMNS[paper_mm]
        self._printer = _load()(profile=f"roll{paper_mm}")
        self._printer._raw(b"\x1b@")  # ESC @: reset whatever the last job left set
        self._printer.charcode("CP437")

    def _style(self, *, align: str = "left", bold: bool = False, tall: bool = False) -> None:
        self._printer.set(align=align, bold=bold, double_height=tall, normal_textsize=not tall)

    def line(self, text: object = "", *, align: str = "left", bold: bool = False, tall: bool = False) -> None:
        """Text wrapped at the column width (words kept whole where they fit)."""
        self._style(align=align, bold=bold, tall=tall)
        for paragraph in printable(text).split("\n"):
            for row in textwrap.wrap(paragraph, self.columns, break_long_words=True) or [""]:
                self._printer.text(row + "\n")
        self._style()

    def center(self, text: object, *, bold: bool = False, tall: bool = False) -> None:
        self.line(text, align="center", bold=bold, tall=tall)

    def pair(self, left: object, right: object, *, bold: bool = False, tall: bool = False) -> None:
        """`left` and `right` on one line, `right` flush right (an amount never wraps)."""
        left_text, right_text = printable(left), printable(right)
        room = self.columns - len(right_text) - 1
        rows = textwrap.wrap(left_text, max(room, 1), break_long_words=True) or [""]
        if room < 1 or len(rows[-1]) > room:
            rows = textwrap.wrap(left_text, self.columns, break_long_words=True) or [""]
            rows.append("")
        self._style(bold=bold, tall=tall)
        for row in rows[:-1]:
            self._printer.text(row + "\n")
        self._printer.text(rows[-1] + " " * (self.columns - len(rows[-1]) - len(right_text)) + right_text + "\n")
        self._style()

    def rule(self, char: str = "-") -> None:
        self._printer.text(char * self.columns + "\n")

    def feed(self, lines: int = 1) -> None:
        self._printer.text("\n" * lines)

    def qr(self, data: str, mode: QrMode = QrMode.NATIVE) -> None:
        """The QR code of `data` centred, or `data` as text when the printer draws none."""
        if mode == QrMode.NONE:
            self.line(data, align="center")
            return
        self._style(align="center")
        if mode == QrMode.NATIVE:
            self._printer.qr(data, native=True, size=QR_MODULE_DOTS[self.paper_mm], ec=1)  # ec 1 = level M
        else:
            self._printer.qr(data, native=False, size=QR_MODULE_DOTS[self.paper_mm] - 1, ec=1,
                             image_arguments={"impl": "bitImageRaster", "center": True})
        self._printer.text("\n")
        self._style()

    def open_drawer(self) -> None:
        """ESC p: kick the cash drawer wired to the printer."""
        self._printer.cashdraw(DRAWER_PIN)

    def cut(self) -> None:
        self._printer.cut()

    def getvalue(self) -> bytes:
        return self._printer.output

