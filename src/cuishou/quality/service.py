"""QA use cases (质检): raise an item when screening finds banned content in a note or a
transcript, list items, review them. Every step is an event; each finding is also a
``screening.finding`` event by the person who wrote or said it (the compliance report
counts findings by category and by collector/agency from those)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for, usernames
from cuishou.compliance.screening import Audience, Finding, screen
from cuishou.compliance.service import (
    creditor_pack,
    finding_dicts,
    findings_out,
    screening_perspective,
    stored_findings,
)
from cuishou.kit.errors import Conflict, NotFound
from cuishou.quality import repository as repo
from cuishou.quality.schemas import QaItemOut, QaPage, ReviewIn, TranscriptIn, TranscriptOut
from cuishou.store.tables import QaItem


def item_out(item: QaItem) -> QaItemOut:
    return QaItemOut(
        id=item.id,
        case_id=item.case_id,
        contact_id=item.contact_id,
        source=item.source,
        subject=item.subject,
        text=item.text,
        findings=stored_findings(item.findings),
        status=item.status,
        created_at=item.created_at,
        reviewed_by=item.reviewed_by,
        reviewed_at=item.reviewed_at,
        review_note=item.review_note,
    )


def raise_item(
    session: Session,
    *,
    case_id: int | None,
    contact_id: int | None,
    source: str,
    subject: str,
    text: str,
    findings: Sequence[Finding],
    now: datetime,
) -> QaItem:
    """A QA item for banned content found in ``text``, with one event per finding."""
    item = repo.add_item(
        session,
        case_id=case_id,
        contact_id=contact_id,
        source=source,
        subject=subject,
        text=text,
        findings=finding_dicts(findings),
        status="open",
        created_at=now,
        review_note="",
    )
    append_event(
        session,
        at=now,
        actor="system:screening",
        type="qa.item_raised",
        entity_type="qa_item",
        entity_id=item.id,
        case_id=case_id,
        payload={"source": source, "subject": subject, "contact_id": contact_id},
    )
    for payload in finding_dicts(findings):
        append_event(
            session,
            at=now,
            actor=subject,
            type="screening.finding",
            entity_type="qa_item",
            entity_id=item.id,
            case_id=case_id,
            payload={**payload, "source": source},
        )
    return item


def screen_note(
    session: Session, *, case_id: int, creditor_id: int, contact_id: int, author: str, notes: str,
    now: datetime,
) -> list[str]:  # fmt: skip
    """Screen a collector's note on a contact; banned content raises a QA item.

    Notes are the collector's own words about the call, read by colleagues: screened as
    debtor-facing language (a note is not a message to a third party).
    """
    if not notes.strip():
        return []
    pack = screening_perspective(creditor_pack(session, creditor_id))
    findings = screen(notes, audience="debtor", pack=pack)
    if findings:
        raise_item(
            session, case_id=case_id, contact_id=contact_id, source="note", subject=author,
            text=notes, findings=findings, now=now,
        )  # fmt: skip
    return sorted({f.category for f in findings})


def add_transcript(
    session: Session, principal: Principal, contact_id: int, data: TranscriptIn, *, now: datetime
) -> TranscriptOut:
    """Attach a call transcript (录音转写) to a contact; screen it; raise QA on findings."""
    require(principal, "contact.create")
    contact = repo.contact_of(session, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}", contact_id=contact_id)
    case = case_for(session, principal, contact.case_id)
    audience: Audience = "third_party" if repo.spoke_to_third_party(session, contact) else "debtor"
    pack = screening_perspective(creditor_pack(session, case.creditor_id))
    findings = screen(data.text, audience=audience, pack=pack)
    author = usernames(session, [contact.user_id]).get(contact.user_id, "unknown")
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="contact.transcript_added",
        entity_type="contact",
        entity_id=contact.id,
        case_id=case.id,
        payload={"text": data.text, "findings": len(findings)},
    )
    item = None
    if findings:
        item = raise_item(
            session, case_id=case.id, contact_id=contact.id, source="transcript",
            subject=author, text=data.text, findings=findings, now=now,
        )  # fmt: skip
    return TranscriptOut(
        contact_id=contact.id,
        findings=findings_out(findings),
        qa_item_id=item.id if item else None,
    )


def list_items(
    session: Session, principal: Principal, *, status: str | None, limit: int, offset: int
) -> QaPage:
    require(principal, "qa.read")
    total, rows = repo.items(session, status=status, limit=limit, offset=offset)
    return QaPage(total=total, items=[item_out(i) for i in rows])


def review_item(
    session: Session, principal: Principal, item_id: int, data: ReviewIn, *, now: datetime
) -> QaItemOut:
    require(principal, "qa.review")
    item = session.get(QaItem, item_id)
    if item is None:
        raise NotFound(f"no QA item {item_id}", item_id=item_id)
    if not repo.review(
        session, item_id, verdict=data.verdict, note=data.note, by=principal.username, at=now
    ):
        raise Conflict(f"QA item {item_id} was already reviewed ({item.status})", item_id=item_id)
    session.refresh(item)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="qa.item_reviewed",
        entity_type="qa_item",
        entity_id=item.id,
        case_id=item.case_id,
        payload={"verdict": data.verdict, "note": data.note},
    )
    return item_out(item)
