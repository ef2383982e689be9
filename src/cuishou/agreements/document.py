"""The agreement document (还款协议书) as a PDF in Chinese.

ReportLab draws the page; the Chinese face is Noto Sans CJK SC from Debian's
``fonts-noto-cjk`` package. ReportLab embeds only TrueType outlines and Noto CJK ships
PostScript (CFF) outlines, so the glyphs the document uses are subset with fontTools and
converted to TrueType outlines (cu2qu) for each document — a few hundred glyphs, well
under a second — and embedded. A missing font is a clear configuration error, never a
document with empty boxes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont
from reportlab.pdfgen import canvas

from cuishou.kit.errors import ConfigError

DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
#: index of the Simplified Chinese face in Noto Sans CJK's collection (JP, KR, SC, TC, HK)
SC_FACE = 2
FONT_ENV = "CUISHOU_CJK_FONT"


def font_path() -> Path:
    path = Path(os.environ.get(FONT_ENV) or DEFAULT_FONT)
    if not path.is_file():
        raise ConfigError(
            f"the Chinese font for agreement documents is missing: {path}. Install Debian's "
            f"fonts-noto-cjk package (apt-get install fonts-noto-cjk) or set {FONT_ENV} to a "
            "Noto Sans CJK .ttc/.otf file",
            font=str(path),
        )
    return path


def _truetype_subset(path: Path, text: str, ps_name: str) -> io.BytesIO:
    """The glyphs of ``text`` from the CJK font, as a small TrueType-outline font named
    ``ps_name`` (ReportLab keeps faces by their PostScript name: two subsets sharing the
    font's own name would be mixed up within one process)."""
    number = SC_FACE if path.suffix.lower() == ".ttc" else -1
    try:
        font = TTFont(str(path), fontNumber=number, lazy=False)
    except Exception as exc:
        raise ConfigError(f"cannot read the Chinese font {path}: {exc}", font=str(path)) from exc
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    options.drop_tables += ["VORG", "vhea", "vmtx", "DSIG", "GPOS", "GSUB", "BASE"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyphs = {}
        for name in order:
            pen = TTGlyphPen(glyph_set)
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyphs[name] = pen.glyph()
        font["loca"] = newTable("loca")
        glyf = font["glyf"] = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = glyphs
        del font["CFF "]
        glyf.compile(font)
        metrics = font["hmtx"]
        for name, glyph in glyphs.items():
            if hasattr(glyph, "xMin"):
                metrics[name] = (metrics[name][0], glyph.xMin)
        maxp = font["maxp"] = newTable("maxp")
        maxp.tableVersion = 0x00010000
        for attribute in (
            "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
            "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
        ):  # fmt: skip
            setattr(maxp, attribute, 0)
        maxp.maxZones = 1
        post = font["post"]
        post.formatType = 2.0
        post.extraNames = []
        post.mapping = {}
        post.glyphOrder = order
        font.sfntVersion = "\x00\x01\x00\x00"
    names = font["name"]
    for record in list(names.names):
        if record.nameID == 6:
            names.removeNames(nameID=6)
            break
    names.setName(ps_name, 6, 3, 1, 0x409)
    names.setName(ps_name, 6, 1, 0, 0)
    buffer = io.BytesIO()
    font.save(buffer)
    buffer.seek(0)
    return buffer


@dataclass(frozen=True, slots=True)
class DocumentLine:
    text: str
    size: int = 11
    indent: int = 0


def render_pdf(title: str, lines: Sequence[DocumentLine]) -> bytes:
    """A4 pages of ``lines`` under ``title`` with the CJK font embedded (a subset named
    after the characters it holds, so documents never share a mismatched subset)."""
    text = title + "".join(line.text for line in lines) + "0123456789第页"
    glyphs = "".join(sorted(set(text)))
    font_name = "NotoSansCJKsc-" + hashlib.sha256(glyphs.encode("utf-8")).hexdigest()[:16]
    if font_name not in pdfmetrics.getRegisteredFontNames():
        subset_font = _truetype_subset(font_path(), glyphs, font_name)
        pdfmetrics.registerFont(ReportLabFont(font_name, subset_font))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle(title)
    width, height = float(A4[0]), float(A4[1])
    margin = 56.0
    number = 1

    def header() -> float:
        page.setFont(font_name, 16)
        page.drawCentredString(width / 2, height - margin, title)
        return height - margin - 32

    y = header()
    for line in lines:
        page.setFont(font_name, line.size)
        for chunk in _wrap(line.text, font_name, line.size, width - 2 * margin - line.indent):
            if y < margin + 24:
                page.setFont(font_name, 9)
                page.drawCentredString(width / 2, margin / 2, f"第{number}页")
                page.showPage()
                number += 1
                y = header()
                page.setFont(font_name, line.size)
            page.drawString(margin + line.indent, y, chunk)
            y -= line.size * 1.6
    page.setFont(font_name, 9)
    page.drawCentredString(width / 2, margin / 2, f"第{number}页")
    page.save()
    return out.getvalue()


def _wrap(text: str, font_name: str, size: int, width: float) -> list[str]:
    """Break a line by characters (Chinese has no spaces to break at)."""
    if not text:
        return [""]
    chunks, current = [], ""
    for char in text:
        if float(pdfmetrics.stringWidth(current + char, font_name, size)) > width:
            chunks.append(current)
            current = char
        else:
            current += char
    chunks.append(current)
    return chunks
