"""Capture every log record: the tests that prove no personal data reaches a log."""

from __future__ import annotations

import logging

import pytest


def log_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, into ``caplog`` — SQLAlchemy's too (it sets its own root
    logger to WARNING, so the root's level alone would not reach it)."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "uvicorn", *logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
