"""Reading: the send runs, the dead letters, one message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.kit.errors import NotFound
from cuishou.messaging import repository as repo
from cuishou.messaging.schemas import JobOut, MessageOut

#: the integration user messages are sent and logged as (a manager's reach, no password)
from cuishou.messaging.service.common import message_out
from cuishou.store.tables import MessageJob

# --------------------------------------------------------------------------- reading


def job_out(job: MessageJob) -> JobOut:
    return JobOut(
        id=job.id, day=job.day, channel=job.channel, status=job.status, total=job.total,
        counts=dict(job.counts or {}), started_by=job.started_by, started_at=job.started_at,
        finished_at=job.finished_at,
    )  # fmt: skip


def list_jobs(session: Session, principal: Principal, *, limit: int = 50) -> list[JobOut]:
    require(principal, "report.read")
    return [job_out(j) for j in repo.jobs(session, limit=limit)]


def dead_letters(session: Session, principal: Principal, *, limit: int = 200) -> list[MessageOut]:
    """The dead-letter list: messages given up on, and those a dead run left unknown."""
    require(principal, "report.read")
    return [message_out(m) for m in repo.dead_letters(session, limit=limit)]


def get_message(session: Session, principal: Principal, message_id: int) -> MessageOut:
    require(principal, "case.read")
    message = repo.get(session, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    case_for(session, principal, message.case_id)  # 404 outside the principal's scope
    return message_out(message)
