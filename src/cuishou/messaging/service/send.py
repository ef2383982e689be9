"""Sending (发送): per recipient, gate at send time, claim, hand to the gateway, record with its
contact; retries with backoff, throttles, the job row (ADR 0031).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.cases.service import record_reveal, require_reveal
from cuishou.compliance.schemas import CheckIn
from cuishou.compliance.service import gate
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.messaging import repository as repo
from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.gateways import Gateway, Outbound, SendResult
from cuishou.messaging.rules import (
    Throttle,
    after_failure,
)
from cuishou.messaging.schemas import RunSummary

#: the integration user messages are sent and logged as (a manager's reach, no password)
from cuishou.messaging.service.common import system_principal
from cuishou.messaging.service.queue import queue_candidates, queue_day, selection_frame
from cuishou.store.db import transaction
from cuishou.store.tables import Message

# --------------------------------------------------------------------------- send


@dataclass
class SendOptions:
    day: date
    channels: tuple[str, ...]
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    actor: str = "cli"
    #: how many retry passes a run makes before leaving failed messages to the next run
    passes: int = 4
    progress: Callable[[str, int, int], None] | None = None
    selection: Sequence[Any] = ()
    #: who the letters' manifest shows addresses unmasked for (``pii.reveal``, audited per
    #: case); the printer must be built with ``reveal=True`` as well
    reveal_as: Principal | None = None


def _outbound(session: Session, message: Message) -> Outbound:
    point = repo.point(session, message.contact_point_id)
    assert point is not None  # a foreign key
    params = {k: str(v) for k, v in (message.params or {}).items()}
    return Outbound(
        message_id=message.id, key=message.key, channel=message.channel, to=point.value,
        body=message.body, template_code=message.template_code, params=params,
        recipient_name=params.get("name", ""),
    )  # fmt: skip


def _record(
    session: Session,
    principal: Principal,
    message: Message,
    result: SendResult,
    settings: MessagingSettings,
    summary: RunSummary,
    *,
    now: datetime,
) -> None:
    if result.ok:
        contact = log_contact(
            session, principal, message.case_id,
            ContactIn(contact_point_id=message.contact_point_id, channel=message.channel,
                      outcome="message_sent", at=now,
                      notes=f"{message.template_code} v{message.template_version}"),
            now=now,
        )  # fmt: skip
        repo.set_values(
            session, message.id, status="sent", provider_id=result.provider_id, sent_at=now,
            updated_at=now, error="", contact_id=contact.contact.id, next_attempt_at=None,
        )  # fmt: skip
        summary.sent += 1
        kind = "message.sent"
    else:
        status, retry_at = after_failure(
            message.attempts, retryable=result.retryable, policy=settings.retry, now=now
        )
        repo.set_values(session, message.id, status=status, next_attempt_at=retry_at,
                        error=result.error[:2000], updated_at=now)  # fmt: skip
        if status == "dead":
            summary.dead += 1
        else:
            summary.failed += 1
        kind = f"message.{status}"
    append_event(
        session, at=now, actor=principal.username, type=kind, entity_type="message",
        entity_id=message.id, case_id=message.case_id,
        payload={"key": message.key, "channel": message.channel, "attempt": message.attempts,
                 "provider_id": result.provider_id, "error": result.error[:200]},
    )  # fmt: skip


def _judge_and_claim(
    session: Session, principal: Principal, message: Message, summary: RunSummary, now: datetime
) -> bool:
    """The gate at send time; a refused message is ``blocked`` with its rules."""
    checked = gate(
        session, principal,
        CheckIn(case_id=message.case_id, contact_point_id=message.contact_point_id,
                channel=message.channel, at=now),
        now=now,
    )  # fmt: skip
    if not checked.allowed:
        rules = [r.id for r in checked.rules]
        repo.set_values(session, message.id, status="blocked", rule_ids=rules,
                        next_allowed_at=checked.next_allowed_at, updated_at=now)  # fmt: skip
        append_event(
            session, at=now, actor=principal.username, type="message.blocked",
            entity_type="message", entity_id=message.id, case_id=message.case_id,
            payload={"key": message.key, "rules": rules},
        )  # fmt: skip
        summary.blocked += 1
        for rule in rules:
            summary.blocked_by_rule[rule] = summary.blocked_by_rule.get(rule, 0) + 1
        return False
    return repo.claim(session, message.id, now=now)


def send_due(
    engine: Engine,
    gateways: Mapping[str, Gateway],
    settings: MessagingSettings,
    options: SendOptions,
) -> RunSummary:
    """Queue the day's planned messages and send what is due, channel by channel (module
    docstring). Each message is its own transaction (claim, then result)."""
    if options.reveal_as is not None:
        require_reveal(options.reveal_as, "addresses")
    summary = RunSummary(day=options.day, channels=list(options.channels))
    summary.not_configured = [c for c in options.channels if c not in gateways]
    channels = tuple(c for c in options.channels if c in gateways)
    started = options.clock()
    with transaction(engine) as session:
        principal = system_principal(session, now=started)
        orphans = repo.orphan_claims(session, before=started, now=started)
        summary.unknown = len(orphans)
        queued = queue_day(session, principal, settings, day=options.day, channels=channels,
                           now=started)  # fmt: skip
        if options.selection:
            picked = selection_frame(session, options.selection)
            more = queue_candidates(session, picked, principal, settings, day=options.day,
                                    now=started, source="manual")  # fmt: skip
            queued.queued += more.queued
            queued.blocked += more.blocked
            queued.blocked_by_rule.update(more.blocked_by_rule)
        summary.queued = queued.queued
        summary.blocked = queued.blocked
        summary.blocked_by_rule = dict(queued.blocked_by_rule)
        summary.skipped = dict(queued.skipped)
        job = repo.add_job(
            session, day=options.day, channel=",".join(channels) or None, status="running",
            total=0, counts=summary.counts(), started_by=options.actor, started_at=started,
        )  # fmt: skip
        summary.job_id = job_id = job.id
    throttles = {c: Throttle(settings.per_second.get(c, 0.0)) for c in channels}
    try:
        for pass_no in range(options.passes):
            with transaction(engine) as session:
                due = repo.due(session, day=options.day, channels=channels, now=options.clock())
                due_ids = [(m.id, m.channel) for m in due]
            if pass_no:
                summary.retried += len(due_ids)
            total = len(due_ids)
            for channel in channels:
                ids = [i for i, c in due_ids if c == channel]
                if channel == "letter":
                    _send_batch(engine, gateways[channel], settings, summary, ids, options)
                else:
                    for i, message_id in enumerate(ids):
                        _send_one(engine, gateways[channel], throttles[channel], settings,
                                  summary, message_id, options)  # fmt: skip
                        if options.progress:
                            options.progress(channel, i + 1, len(ids))
                        if i % 50 == 49:
                            _job_progress(engine, summary, total)
            _job_progress(engine, summary, total)
            with transaction(engine) as session:
                wake = repo.next_retry_at(session, day=options.day, channels=channels)
            now = options.clock()
            if wake is None or wake.date() > options.day or pass_no == options.passes - 1:
                break
            if wake > now:
                options.sleep((wake - now).total_seconds())
    except BaseException:
        with transaction(engine) as session:
            repo.update_job(session, job_id, status="crashed", counts=summary.counts(),
                            finished_at=options.clock())  # fmt: skip
        raise
    finally:
        for gateway in gateways.values():
            close = getattr(gateway, "close", None)
            if callable(close):
                close()
    with transaction(engine) as session:
        repo.update_job(session, job_id, status="done", counts=summary.counts(),
                        finished_at=options.clock())  # fmt: skip
    return summary


def _job_progress(engine: Engine, summary: RunSummary, total: int) -> None:
    if summary.job_id is None:
        return
    with transaction(engine) as session:
        repo.update_job(session, summary.job_id, counts=summary.counts(), total=total)


def _send_one(
    engine: Engine,
    gateway: Gateway,
    throttle: Throttle,
    settings: MessagingSettings,
    summary: RunSummary,
    message_id: int,
    options: SendOptions,
) -> None:
    now = options.clock()
    with transaction(engine) as session:
        principal = system_principal(session, now=now)
        message = repo.get(session, message_id)
        if message is None or not _judge_and_claim(session, principal, message, summary, now):
            return
        outbound = _outbound(session, message)
    wait = throttle.wait(options.clock())
    if wait > 0:
        options.sleep(wait)
    result = gateway.send([outbound])[0]
    now = options.clock()
    with transaction(engine) as session:
        principal = system_principal(session, now=now)
        message = repo.get(session, message_id)
        assert message is not None
        _record(session, principal, message, result, settings, summary, now=now)


def _send_batch(
    engine: Engine,
    gateway: Gateway,
    settings: MessagingSettings,
    summary: RunSummary,
    ids: Sequence[int],
    options: SendOptions,
) -> None:
    """Letters: every allowed letter of the run in one print batch."""
    if not ids:
        return
    now = options.clock()
    batch: list[Outbound] = []
    with transaction(engine) as session:
        principal = system_principal(session, now=now)
        for message_id in ids:
            message = repo.get(session, message_id)
            if message is not None and _judge_and_claim(session, principal, message, summary, now):
                batch.append(_outbound(session, message))
                if options.reveal_as is not None:
                    record_reveal(
                        session, options.reveal_as, case_id=message.case_id, now=now,
                        field="address", reason="letters print batch",
                    )  # fmt: skip
    if not batch:
        return
    results = gateway.send(batch)
    files = getattr(gateway, "last_files", None)
    if files:
        summary.files.extend(str(f) for f in files)
    now = options.clock()
    with transaction(engine) as session:
        principal = system_principal(session, now=now)
        for result in results:
            message = repo.get(session, result.message_id)
            assert message is not None
            _record(session, principal, message, result, settings, summary, now=now)
