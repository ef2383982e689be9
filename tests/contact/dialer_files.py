"""Shared pieces of the dialer import tests: a world with cases, call files, reading back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.contact.dialer import DialerOptions, import_call_results
from cuishou.contact.schemas import CallImportResult
from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Alert, Contact, ContactPoint, Event, Promise, Task
from tests.factories import NOW  # 2026-11-01 10:00 in Shanghai
from tests.web.world import World, build_world

HEADER = ("账号", "话单号", "被叫号码", "呼叫时间", "通话时长", "呼叫结果", "坐席", "承诺金额",
          "承诺日期")  # fmt: skip
DEBTOR_NUMBER = "13812341234"  # tests.web.factories.make_case: the debtor's mobile
THIRD_NUMBER = "13900001111"  # … and their named contact 李娜


@dataclass
class CaseRef:
    case_id: int
    account_no: str
    debtor_id: int


def local(hhmm: str, day: str = "2026-11-01") -> datetime:
    """A Beijing wall-clock time on ``day`` as an aware datetime."""
    return datetime.fromisoformat(f"{day} {hhmm}").replace(tzinfo=CHINA_TZ)


def make_world(engine: Engine, cases: int = 1) -> tuple[World, list[CaseRef]]:
    world = build_world(engine)
    refs = []
    with transaction(engine) as session:
        for _ in range(cases):
            case = world.case_for_a(session)
            account = session.scalar(select(Account).where(Account.case_id == case.id))
            assert account is not None
            refs.append(CaseRef(case.id, account.account_no, case.debtor_id))
    return world, refs


def call_row(
    account_no: str, call_id: str, at: str, result: str, *, number: str = DEBTOR_NUMBER,
    agent: str = "col_a", duration: str = "30", amount: str = "", due: str = "",
) -> tuple[str, ...]:  # fmt: skip
    return (account_no, call_id, number, at, duration, result, agent, amount, due)


def write_csv(path: Path, rows: list[tuple[str, ...]], *, encoding: str = "utf-8") -> Path:
    lines = [",".join(HEADER), *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[tuple[str, ...]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def run(engine: Engine, *paths: Path, now: datetime = NOW, **options: Any) -> CallImportResult:
    options.setdefault("creditor_code", "TESTBANK")
    return import_call_results(engine, list(paths), DialerOptions(now=now, **options))


def contacts_of(session: Session, case_id: int) -> list[Contact]:
    query = select(Contact).where(Contact.case_id == case_id).order_by(Contact.at, Contact.id)
    return list(session.scalars(query))


def effects(session: Session, case_id: int) -> dict[str, Any]:
    """Everything a case's contacts caused, with contact ids replaced by their position in
    the case's time order (so two cases' effects can be compared)."""
    contacts = contacts_of(session, case_id)
    index = {c.id: i for i, c in enumerate(contacts)}
    promises = list(session.scalars(select(Promise).where(Promise.case_id == case_id)))
    promise_index = {p.id: i for i, p in enumerate(sorted(promises, key=lambda p: p.id))}

    def scrub(payload: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in payload.items() if k not in ("source", "call_id")}
        if "contact_id" in out and out["contact_id"] is not None:
            out["contact_id"] = index[out["contact_id"]]
        if "at" in out and isinstance(out["at"], str):
            out["at"] = datetime.fromisoformat(out["at"]).astimezone(UTC).isoformat()
        if "contact_point_id" in out:
            point = session.get(ContactPoint, out["contact_point_id"])
            out["contact_point_id"] = point.owner if point is not None else None
        out.pop("reminder_task_id", None)
        return out

    events = []
    for e in session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id)):
        entity: Any = e.entity_id
        if e.entity_type == "contact":
            entity = ("contact", index[e.entity_id or 0])
        elif e.entity_type == "promise":
            entity = ("promise", promise_index[e.entity_id or 0])
        elif e.entity_type == "alert":
            entity = "alert"
        elif e.entity_type == "contact_point":
            entity = ("point", session.get(ContactPoint, e.entity_id).owner)  # type: ignore[union-attr]
        events.append((e.type, e.actor, entity, scrub(dict(e.payload or {}))))
    alerts = sorted(
        (a.kind, a.status, a.raised_on.isoformat(), repr(sorted(scrub(dict(a.details)).items())))
        for a in session.scalars(select(Alert).where(Alert.case_id == case_id))
    )
    tasks = sorted(
        (t.kind, t.due_on, t.assigned_user_id, t.status)
        for t in session.scalars(select(Task).where(Task.case_id == case_id))
    )
    points = sorted(
        (p.owner, p.status)
        for p in session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id
                == select(Account.debtor_id)
                .where(Account.case_id == case_id)
                .limit(1)
                .scalar_subquery()
            )
        )
    )
    return {
        "contacts": [
            (
                c.channel,
                c.party,
                c.outcome,
                c.at,
                c.user_id,
                c.notes,
                c.callback_at,
                session.get(ContactPoint, c.contact_point_id).owner,
            )  # type: ignore[union-attr]
            for c in contacts
        ],
        "events": sorted(events, key=repr),
        "alerts": alerts,
        "promises": sorted(
            (index[p.contact_id or 0], p.amount_fen, p.due_date, p.status, p.created_by)
            for p in promises
        ),
        "tasks": tasks,
        "points": points,
    }
