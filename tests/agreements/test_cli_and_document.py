"""The agreement document's font handling."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cuishou.agreements.document import FONT_ENV, DocumentLine, font_path, render_pdf
from cuishou.kit.errors import ConfigError

runner = CliRunner()


def test_a_missing_font_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "none.ttc"))
    with pytest.raises(ConfigError, match="fonts-noto-cjk"):
        font_path()


def test_a_long_document_wraps_and_breaks_pages() -> None:
    lines = [
        DocumentLine(f"第{n}行：乙方应按期足额还款，逾期将承担违约责任。" * 3) for n in range(80)
    ]
    pages = PdfReader(io.BytesIO(render_pdf("还款协议", lines))).pages
    assert len(pages) > 2
    text = "".join(page.extract_text() for page in pages)
    assert "第79行" in text and "第1页" in text


def test_documents_with_different_characters_do_not_share_a_font_subset() -> None:
    # two documents in one process: each must carry the glyphs of its own text
    first = render_pdf("还款协议", [DocumentLine("甲方：测试银行")])
    second = render_pdf("还款协议", [DocumentLine("乙方：张伟，分期十二期")])
    assert "甲方：测试银行" in PdfReader(io.BytesIO(first)).pages[0].extract_text()
    assert "乙方：张伟，分期十二期" in PdfReader(io.BytesIO(second)).pages[0].extract_text()
