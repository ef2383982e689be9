"""Placement import use cases (委案导入): check every row, quarantine the bad, store the good.

Fetch → decide → act, per file, inside the caller's transaction (the CLI commits once
per file). Checks run over the whole file as Polars expressions (``placement.rules``);
only failing cells go through the scalar rules, which explain the problem in English
and Chinese. ``accepted + quarantined == rows`` for every file.

One module per use case:

- ``common`` — options, outcome, the problem collector and the checks both imports make;
- ``account_checks`` — ``check_accounts``: an accounts file checked without the store;
- ``accounts`` — ``import_accounts``: create or update accounts, debtors, contact points;
- ``payments`` — ``check_payments`` and ``import_payments``: post new payments;
- ``quarantine`` — ``write_quarantine``: the rejected rows beside the input.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cuishou.placement import repository as repo
from cuishou.placement.reader import ACCOUNTS, SourceTable
from cuishou.placement.service.account_checks import PLAIN_MOBILE, check_accounts
from cuishou.placement.service.accounts import import_accounts
from cuishou.placement.service.common import MAX_LENGTHS, FileOutcome, ImportOptions, day_before
from cuishou.placement.service.payments import check_payments, import_payments
from cuishou.placement.service.quarantine import (
    QUARANTINE_SUFFIX,
    quarantine_path,
    write_quarantine,
)

__all__ = [
    "MAX_LENGTHS",
    "PLAIN_MOBILE",
    "QUARANTINE_SUFFIX",
    "FileOutcome",
    "ImportOptions",
    "check_accounts",
    "check_payments",
    "day_before",
    "import_accounts",
    "import_payments",
    "import_source",
    "quarantine_path",
    "tune_for_bulk",
    "write_quarantine",
]


def tune_for_bulk(session: Session) -> None:
    """Prepare the session's connection for a file's bulk write (any import of a file)."""
    repo.tune_for_bulk(session)


def import_source(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Import one file that has been read (inside the caller's transaction)."""
    repo.tune_for_bulk(session)
    if source.kind == ACCOUNTS:
        return import_accounts(session, source, options)
    return import_payments(session, source, options)
