"""Receipts (回执): delivery reports and replies from the signed callback or a file; a 退订/TD/STOP
reply opens an opt-out hold.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.compliance.schemas import HoldIn
from cuishou.compliance.service import open_hold
from cuishou.kit.errors import InvalidInput
from cuishou.messaging import repository as repo
from cuishou.messaging.rules import (
    RECEIPT_STATUS,
    is_opt_out,
    receipt_problem,
)
from cuishou.messaging.schemas import ReceiptOut

#: the integration user messages are sent and logged as (a manager's reach, no password)
from cuishou.messaging.service.common import system_principal
from cuishou.store.db import transaction

# --------------------------------------------------------------------------- receipts


def _receipt_row(
    session: Session, principal: Principal, row: Mapping[str, Any], *, now: datetime
) -> tuple[str | None, bool]:
    """Apply one receipt or reply; ``(reason it was rejected or None, opened an opt-out)``."""
    if "content" in row:  # an upstream reply (上行短信)
        number = str(row.get("phone_number", "")).strip()
        content = str(row.get("content", ""))
        message = repo.last_sms_to(session, number) if number else None
        if message is None:
            return f"no SMS was sent to {number or '(no number)'}", False
        append_event(
            session, at=now, actor=principal.username, type="message.reply",
            entity_type="message", entity_id=message.id, case_id=message.case_id,
            payload={"opt_out": is_opt_out(content), "length": len(content)},
        )  # fmt: skip
        if not is_opt_out(content):
            return None, False
        open_hold(
            session, principal, message.case_id,
            HoldIn(kind="opt_out", channel="sms", reason=f"回复退订: {content.strip()[:20]}"),
            now=now,
        )  # fmt: skip
        return None, True
    out_id, biz_id = str(row.get("out_id") or ""), str(row.get("biz_id") or "")
    success = row.get("success")
    if isinstance(success, str):
        success = success.strip().lower() in ("true", "1", "yes", "delivered")
    status = "delivered" if success is True else "failed" if success is False else str(success)
    message = repo.by_provider(session, out_id=out_id, provider_id=biz_id)
    if message is None:
        return f"no message {out_id or biz_id or '(no id)'}", False
    problem = receipt_problem(status, message.status)
    if problem:
        return problem, False
    repo.set_values(
        session, message.id, status=RECEIPT_STATUS[status], updated_at=now, next_attempt_at=None,
        delivered_at=now if status == "delivered" else None,
        error="" if status == "delivered" else str(row.get("err_code", ""))[:200],
    )  # fmt: skip
    append_event(
        session, at=now, actor=principal.username, type=f"message.{status}",
        entity_type="message", entity_id=message.id, case_id=message.case_id,
        payload={"key": message.key, "err_code": str(row.get("err_code", ""))[:100]},
    )  # fmt: skip
    return None, False


def apply_receipts(session: Session, rows: Iterable[Any], *, now: datetime) -> ReceiptOut:
    """Delivery reports and replies from the gateway's callback (already authenticated by
    its signature); rows that match nothing are counted with their reasons."""
    principal = system_principal(session, now=now)
    out = ReceiptOut()
    for number, row in enumerate(rows, start=1):
        out.rows += 1
        if not isinstance(row, dict):
            out.rejected += 1
            out.reasons.append(f"row {number}: not an object")
            continue
        reason, opted = _receipt_row(session, principal, row, now=now)
        if reason:
            out.rejected += 1
            out.reasons.append(f"row {number}: {reason}")
        else:
            out.applied += 1
            out.opt_outs += int(opted)
    return out


def parse_callback(body: bytes) -> list[Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("the receipt body is not JSON") from None
    return payload if isinstance(payload, list) else [payload]


def import_receipts(engine: Engine, path: Path, *, now: datetime) -> ReceiptOut:
    """A receipts file (CSV: ``out_id, biz_id, success, err_code`` or ``phone_number,
    content`` for replies); rejected rows go to ``<file>.rejected.csv`` with the reason."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("gbk", errors="strict")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    rows = list(csv.DictReader(text.splitlines()))
    rejected: list[dict[str, str]] = []
    out = ReceiptOut()
    with transaction(engine) as session:
        principal = system_principal(session, now=now)
        for row in rows:
            out.rows += 1
            clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not clean.get("content"):
                clean.pop("content", None)
            reason, opted = _receipt_row(session, principal, clean, now=now)
            if reason:
                out.rejected += 1
                rejected.append({**clean, "reason": reason})
            else:
                out.applied += 1
                out.opt_outs += int(opted)
    if rejected:
        target = path.with_name(path.stem + ".rejected.csv")
        columns = list(dict.fromkeys(k for r in rejected for k in r))
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rejected)
        out.rejected_file = str(target)
        out.reasons = [r["reason"] for r in rejected][:20]
    return out
