"""Skip tracing (失联修复): the repair queue, repair-vendor requests and their results.

The queue is the open cases carrying the shared customer label ``unreachable`` (失联型,
``scoring/labels.yaml``: every point of the debtor's own invalid, or not reached for N days
though tried — N is data in the label pack); the daily cycle gives and removes it.
A vendor request file lists those cases masked (:mod:`cuishou.skiptrace.rules`); each case
sent is a ``skiptrace.requested`` event. A results file — or any list of contact points —
is read by the placement reader and checked row by row; each good row is added through the
contact domain (:func:`cuishou.contact.service.store_point`: one path for every new point,
verification ``new``), bad rows are quarantined beside the file with their reasons.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.audit.events import append_events
from cuishou.auth.rules import CaseScope, Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.contact.rules import POINT_SOURCES
from cuishou.contact.service import store_point
from cuishou.kit.errors import Conflict, InvalidInput
from cuishou.kit.masking import mask_name
from cuishou.kit.spreadsheet import csv_bytes
from cuishou.placement.limits import DEFAULT_LIMITS, ImportLimits
from cuishou.placement.reader import read_source
from cuishou.placement.rules import Reason
from cuishou.placement.schemas import FileResult
from cuishou.placement.service import FileOutcome, write_quarantine
from cuishou.skiptrace import repository as repo
from cuishou.skiptrace.rules import (
    POINT_COLUMNS,
    POINTS_FILE,
    REQUEST_COLUMNS,
    UNREACHABLE,
    PointRow,
    point_row,
    request_row,
)
from cuishou.skiptrace.schemas import ExportResult, QueueItem
from cuishou.store.db import transaction

ALL = CaseScope("all")


def repair_queue(session: Session, principal: Principal, *, limit: int = 200) -> list[QueueItem]:
    """The repair queue (失联修复队列) within the principal's case scope, names masked."""
    require(principal, "case.read")
    return [
        QueueItem(
            case_id=row.case.id,
            debtor_name=mask_name(row.name),
            creditor=row.creditor,
            bucket=row.case.bucket,
            dpd=row.case.dpd,
            due_fen=row.case.due_fen,
            since=row.since,
            facts=dict(row.facts or {}),
            requested_at=row.requested_at,
        )
        for row in repo.queue(session, case_scope_of(principal), label=UNREACHABLE, limit=limit)
    ]


def export_requests(
    session: Session, target: Path, *, vendor: str, as_of: date, actor: str, now: datetime
) -> ExportResult:
    """Write the vendor request file (UTF-8 CSV with BOM, cells spreadsheet-safe) for every
    case in the queue and record a ``skiptrace.requested`` event per case."""
    rows = repo.queue(session, ALL, label=UNREACHABLE)
    lines = [
        request_row(
            case_id=row.case.id,
            name=row.name,
            id_number=row.id_number,
            province=row.province,
            city=row.city,
            requested_on=as_of.isoformat(),
        )
        for row in rows
    ]
    cells = ([line[c] for c in REQUEST_COLUMNS] for line in lines)
    target.write_bytes(csv_bytes(REQUEST_COLUMNS, cells))
    payload = {"vendor": vendor, "file": target.name, "as_of": as_of.isoformat()}
    append_events(
        session,
        (
            {
                "at": now,
                "actor": actor,
                "type": repo.REQUESTED,
                "entity_type": "case",
                "entity_id": row.case.id,
                "case_id": row.case.id,
                "payload": payload,
            }
            for row in rows
        ),
    )
    return ExportResult(path=str(target), cases=len(rows))


def _problem(problems: list[dict[str, object]], row: int, reason: Reason) -> None:
    problems.append({"_row": row, "_order": len(problems), "en": reason.en, "zh": reason.zh})


def import_points(
    engine: Engine,
    path: Path,
    *,
    source: str,
    actor: str,
    now: datetime,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> FileResult:
    """Add the contact points of a file (a vendor's results: ``source`` repair_vendor), one
    transaction; rows that cannot be taken go to ``<file>.quarantine.csv`` with reasons."""
    if source not in POINT_SOURCES:
        raise InvalidInput(
            f"--source: {source!r} is not one of {', '.join(POINT_SOURCES)}", field="source"
        )
    table = read_source(path, limits, kinds=(POINTS_FILE,), columns=POINT_COLUMNS)
    result = FileResult(
        path=str(path), kind=POINTS_FILE, encoding=table.encoding, rows=table.rows,
        ignored_columns=table.ignored_columns,
    )  # fmt: skip
    problems: list[dict[str, object]] = []
    decided: list[tuple[int, PointRow]] = []
    for row in table.frame.iter_rows(named=True):
        taken = point_row(row, default_source=source)
        if isinstance(taken, Reason):
            _problem(problems, row["_row"], taken)
        else:
            decided.append((row["_row"], taken))
    with transaction(engine) as session:
        cases = repo.cases_by_id(session, {d.case_id for _, d in decided})
        for number, item in decided:
            case = cases.get(item.case_id)
            if case is None:
                _problem(problems, number, Reason(
                    f"case_id: no case {item.case_id}", f"case_id：案件 {item.case_id} 不存在"
                ))  # fmt: skip
                continue
            try:
                store_point(session, case, item.point, actor=actor, now=now)
            except Conflict:
                _problem(problems, number, Reason(
                    "the debtor already has this contact point", "该联系方式已存在"
                ))  # fmt: skip
                continue
            result.created += 1
    result.accepted = result.created
    result.quarantined = result.rows - result.accepted
    frame = pl.DataFrame(
        problems,
        schema={"_row": pl.Int64(), "_order": pl.Int64(), "en": pl.String(), "zh": pl.String()},
    )
    write_quarantine(FileOutcome(result=result, source=table, problems=frame))
    return result
