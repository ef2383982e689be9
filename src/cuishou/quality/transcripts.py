"""Importing call transcripts (录音转写) from a file: screen each, QA on findings."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.cases.service import usernames
from cuishou.compliance.screening import Audience, screen
from cuishou.compliance.service import creditor_pack, screening_perspective
from cuishou.kit.errors import UnreadableFile
from cuishou.kit.spreadsheet import excel_safe
from cuishou.quality import repository as repo
from cuishou.quality.service import raise_item
from cuishou.store.tables import Case

COLUMNS = ("contact_id", "text")
MAX_TEXT = 200_000


def _read(path: Path) -> list[dict[str, str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror}.", path=str(path)) from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise UnreadableFile(f"{path} is neither UTF-8 nor GBK text.", path=str(path))
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UnreadableFile(
            f"{path} has no column {', '.join(missing)}; a transcripts file needs the columns "
            f"{', '.join(COLUMNS)}.",
            path=str(path),
        )
    return list(reader)


def import_transcripts(
    session: Session, path: Path, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Import every usable row; the rest go to a quarantine file beside the input."""
    rows = _read(path)
    rejected: list[tuple[int, dict[str, str], str]] = []
    imported = with_findings = 0
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        text = (row.get("text") or "").strip()
        raw_id = (row.get("contact_id") or "").strip()
        if not raw_id.isdigit() or int(raw_id) > 2**63 - 1:
            rejected.append((number, row, f"contact_id {raw_id!r} is not a contact id"))
            continue
        contact = repo.contact_of(session, int(raw_id))
        if contact is None:
            rejected.append((number, row, f"no contact {raw_id} in the store"))
            continue
        if not text:
            rejected.append((number, row, "text is empty"))
            continue
        if len(text) > MAX_TEXT or "\x00" in text:
            rejected.append((number, row, f"text is longer than {MAX_TEXT} characters or has NUL"))
            continue
        case = session.get(Case, contact.case_id)
        audience: Audience = (
            "third_party" if repo.spoke_to_third_party(session, contact) else "debtor"
        )
        pack = screening_perspective(creditor_pack(session, case.creditor_id) if case else "cn")
        findings = screen(text, audience=audience, pack=pack)
        append_event(
            session,
            at=now,
            actor=actor,
            type="contact.transcript_added",
            entity_type="contact",
            entity_id=contact.id,
            case_id=contact.case_id,
            payload={"text": text, "findings": len(findings), "file": path.name},
        )
        if findings:
            author = usernames(session, [contact.user_id]).get(contact.user_id, "unknown")
            raise_item(
                session, case_id=contact.case_id, contact_id=contact.id, source="transcript",
                subject=author, text=text, findings=findings, now=now,
            )  # fmt: skip
            with_findings += 1
        imported += 1
    quarantine = None
    if rejected:
        quarantine = path.with_name(path.name + ".quarantine.csv")
        with quarantine.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "reason", *COLUMNS])
            for number, row, reason in rejected:
                cells = [number, reason, *(row.get(c, "") for c in COLUMNS)]
                writer.writerow([excel_safe(cell) for cell in cells])
    return {
        "rows": len(rows),
        "imported": imported,
        "with_findings": with_findings,
        "quarantined": len(rejected),
        "quarantine_file": str(quarantine) if quarantine else None,
    }
