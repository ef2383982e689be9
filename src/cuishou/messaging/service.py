"""Message use cases (多渠道触达): queue, gate, send exactly once, take receipts.

- **Queue** (:func:`queue_day`, :func:`create_message`): render the active template with
  the case's variables, screen the rendered text again, ask the gate, and write one outbox
  row per case, template and day (the key makes a replay or a re-run a no-op).
- **Send** (:func:`send_due`): per recipient, the gate judges each message at send time
  (``compliance.service.gate``); the message is claimed (``sending``, committed), handed to
  its gateway, and its result recorded with a contact (``contact.service.log_contact``,
  outcome ``message_sent``). A run that dies after a claim leaves ``sending``; the next run
  marks it ``unknown`` and does not send it again (ADR 0031).
- **Receipts** (:func:`apply_receipts`): delivery reports and replies; a 退订/TD/STOP reply
  opens an ``opt_out`` hold through ``compliance.service.open_hold``.
"""

from __future__ import annotations

import csv
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user, principal_named, require
from cuishou.cases.service import case_for
from cuishou.compliance.planned import judge_planned
from cuishou.compliance.schemas import CheckIn, HoldIn, RuleOut
from cuishou.compliance.screening import screen
from cuishou.compliance.service import creditor_pack, gate, open_hold
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.kit.clock import business_day_in
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.masking import mask_name
from cuishou.kit.money import format_yuan, format_yuan_expr
from cuishou.messaging import repository as repo
from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.gateways import Gateway, Outbound, SendResult
from cuishou.messaging.rules import (
    CHANNEL_KINDS,
    RECEIPT_STATUS,
    Throttle,
    Variables,
    after_failure,
    case_ref,
    is_opt_out,
    message_key,
    pay_by,
    receipt_problem,
    render,
    render_frame,
    unknown_variables,
)
from cuishou.messaging.schemas import JobOut, MessageIn, MessageOut, ReceiptOut, RunSummary
from cuishou.store.bulk import SessionBulk
from cuishou.store.db import transaction
from cuishou.store.tables import Message, MessageJob
from cuishou.templates.schemas import TemplateOut
from cuishou.templates.service import install_default_templates, list_templates

#: the integration user messages are sent and logged as (a manager's reach, no password)
CHANNELS_USER = "channels"


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id, status=message.status, key=message.key, case_id=message.case_id,
        channel=message.channel, template_code=message.template_code,
        template_version=message.template_version, body=message.body,
        attempts=message.attempts, rule_ids=list(message.rule_ids or []),
        next_allowed_at=message.next_allowed_at, error=message.error,
        created_at=message.created_at, sent_at=message.sent_at,
        delivered_at=message.delivered_at,
    )  # fmt: skip


def system_principal(session: Session, *, now: datetime) -> Principal:
    """The ``channels`` integration user (created without a password the first time)."""
    try:
        return principal_named(session, CHANNELS_USER)
    except NotFound:
        add_user(
            session,
            UserIn(username=CHANNELS_USER, role="manager", password=secrets.token_urlsafe(24),
                   display_name="消息网关 / message gateways"),
            actor="system:messages", now=now, login=False,
        )  # fmt: skip
        return principal_named(session, CHANNELS_USER)


def active_templates(session: Session, principal: Principal, *, now: datetime) -> dict[str, Any]:
    """The active template of each code; a store without the defaults gets them first."""
    active = {t.code: t for t in list_templates(session, principal, status="active")}
    if not active:  # a new store: the shipped defaults, installed by the integration user
        install_default_templates(session, system_principal(session, now=now), now=now)
        active = {t.code: t for t in list_templates(session, principal, status="active")}
    return active


def _variables(
    settings: MessagingSettings, *, case_id: int, name: str, creditor: str, due_fen: int, day: date
) -> Variables:
    ref = case_ref(case_id, settings.ref_secret)
    return Variables(
        name=mask_name(name), amount=format_yuan(due_fen),
        due_date=pay_by(day, days=settings.pay_within_days).isoformat(), creditor=creditor,
        pay_link=settings.pay_link_base + ref, case_ref=ref,
    )  # fmt: skip


def _screen_rules(body: str, audience: str, pack: str) -> list[str]:
    """Rule ids of banned content in a rendered text (``content:<category>`` when the
    finding cites no rule)."""
    return sorted(
        {f.rule_id or f"content:{f.category}" for f in screen(body, audience=audience, pack=pack)}  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- queue: batch


@dataclass
class QueueResult:
    queued: int = 0
    blocked: int = 0
    existing: int = 0
    blocked_by_rule: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    #: seconds per phase (render, screen, gate, insert) — what bench/messages.py reports
    seconds: dict[str, float] = field(default_factory=dict)


def render_batch(
    candidates: pl.DataFrame,
    templates: Mapping[str, TemplateOut],
    settings: MessagingSettings,
    *,
    day: date,
) -> pl.DataFrame:
    """Render a batch (the frame twin of :func:`_variables` + :func:`render`): adds
    ``template_version, body, params``; rows without an active template of their channel
    are dropped (the caller counts them)."""
    known = pl.DataFrame(
        {
            "template_code": [t.code for t in templates.values()],
            "template_channel": [t.channel for t in templates.values()],
            "template_version": [t.version for t in templates.values()],
            "template_body": [t.body for t in templates.values()],
        },
        schema={"template_code": pl.String, "template_channel": pl.String,
                "template_version": pl.Int64, "template_body": pl.String},
    )  # fmt: skip
    refs = pl.Series(
        [case_ref(c, settings.ref_secret) for c in candidates.get_column("case_id").to_list()],
        dtype=pl.String,
    )
    name = pl.col("debtor_name")
    masked = pl.concat_str(name.str.slice(0, 1), pl.lit("*").repeat_by(name.str.len_chars() - 1)
                           .list.join(""))  # fmt: skip
    frame = (
        candidates.with_columns(refs.alias("case_ref"))
        .join(known, on="template_code", how="inner")
        .filter(pl.col("template_channel") == pl.col("channel"))
        .with_columns(
            masked.alias("name"),
            format_yuan_expr(pl.col("due_fen")).alias("amount"),
            pl.lit(pay_by(day, days=settings.pay_within_days).isoformat()).alias("due_date"),
            pl.col("creditor_name").alias("creditor"),
            (pl.lit(settings.pay_link_base) + pl.col("case_ref")).alias("pay_link"),
        )
    )
    variables = {v: pl.col(v) for v in ("name", "amount", "due_date", "creditor", "pay_link",
                                         "case_ref")}  # fmt: skip
    return frame.with_columns(
        render_frame(pl.col("template_body"), variables).alias("body"),
        pl.struct(list(variables)).struct.json_encode().alias("params"),
    )


def queue_candidates(
    session: Session,
    candidates: pl.DataFrame,
    principal: Principal,
    settings: MessagingSettings,
    *,
    day: date,
    now: datetime,
    source: str,
) -> QueueResult:
    """Render, screen, gate (the bulk form) and queue a batch of candidates."""
    result = QueueResult()
    if candidates.height == 0:
        return result
    templates = active_templates(session, principal, now=now)
    started = time.perf_counter()
    rendered = render_batch(candidates, templates, settings, day=day)
    result.skipped["no_template"] += candidates.height - rendered.height
    packs = {cid: creditor_pack(session, cid) for cid in rendered["creditor_id"].unique()}
    rendered = rendered.with_columns(
        pl.col("creditor_id").replace_strict(packs, return_dtype=pl.String).alias("pack")
    ).with_row_index("candidate_id")
    # the rendered text is screened again (the variables are in it now)
    result.seconds["render"] = time.perf_counter() - started
    started = time.perf_counter()
    content = [
        _screen_rules(body, "debtor", "us-regf" if pack.startswith("us") else "cn")
        for body, pack in zip(rendered["body"], rendered["pack"], strict=True)
    ]
    result.seconds["screen"] = time.perf_counter() - started
    started = time.perf_counter()
    judged = judge_planned(
        SessionBulk(session),
        rendered.select(
            pl.col("candidate_id").cast(pl.Int64), "case_id", "debtor_id", "channel",
            "contact_point_id", "pack",
        ),
        day=day,
    )  # fmt: skip
    rows = rendered.with_columns(
        pl.Series("content_rules", content, dtype=pl.List(pl.String)),
        pl.col("candidate_id").cast(pl.Int64),
    ).join(judged, on="candidate_id", how="left", suffix="_gate")
    allowed = pl.col("status").is_in(["planned", "moved"]) & (
        pl.col("content_rules").list.len() == 0
    )
    rules = pl.concat_list(pl.col("content_rules"), pl.col("rule_ids").fill_null([]))
    staged = rows.select(
        pl.concat_str(pl.col("case_id").cast(pl.String), pl.lit(":"), pl.col("template_code"),
                      pl.lit(f":{day.isoformat()}")).alias("key"),
        pl.lit(day).alias("day"), "case_id", "contact_point_id", "channel", "template_code",
        "template_version", "body", "params",
        pl.when(allowed).then(pl.lit("queued")).otherwise(pl.lit("blocked")).alias("status"),
        pl.when(allowed).then(pl.max_horizontal("window_start", "window_start_gate"))
        .alias("next_attempt_at"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("next_allowed_at"),
        pl.when(pl.col("content_rules").list.len() > 0).then(pl.lit("banned content"))
        .otherwise(pl.lit("")).alias("error"),
        pl.when(allowed).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(rules)
        .alias("rules"),
    ).with_columns(
        pl.col("rules").map_elements(lambda r: json.dumps(list(r)), return_dtype=pl.String)
        .alias("rule_ids")
    )  # fmt: skip
    result.seconds["gate"] = time.perf_counter() - started
    started = time.perf_counter()
    fresh = staged.join(repo.keys_of_day(SessionBulk(session), day), on="key", how="anti")
    result.existing = staged.height - fresh.height
    staged = fresh
    new = repo.insert_messages(
        SessionBulk(session), staged, source=source, by=principal.username, now=now
    )
    result.seconds["insert"] = time.perf_counter() - started
    result.queued = staged.filter(pl.col("status") == "queued").height
    blocked = staged.filter(pl.col("status") == "blocked")
    result.blocked = blocked.height
    for rule_list in blocked.get_column("rules").to_list():
        result.blocked_by_rule.update(rule_list or ["none"])
    if new:
        append_event(
            session, at=now, actor=principal.username, type="messages.queued",
            entity_type="messages", entity_id=None,
            payload={"day": day.isoformat(), "rows": staged.height, "new": new,
                     "blocked": result.blocked, "source": source},
        )  # fmt: skip
    return result


def queue_day(
    session: Session,
    principal: Principal,
    settings: MessagingSettings,
    *,
    day: date,
    channels: Sequence[str],
    now: datetime,
) -> QueueResult:
    """Queue the strategy's planned messages of ``day`` on ``channels``."""
    candidates = repo.planned_candidates(SessionBulk(session), day, channels)
    missing = candidates.filter(pl.col("contact_point_id").is_null()).height
    result = queue_candidates(
        session, candidates.filter(pl.col("contact_point_id").is_not_null()), principal,
        settings, day=day, now=now, source="strategy",
    )  # fmt: skip
    if missing:
        result.skipped["no_point"] += missing
    return result


# --------------------------------------------------------------------------- queue: one


@dataclass(frozen=True)
class Created:
    message: MessageOut
    allowed: bool
    rules: list[RuleOut]
    next_allowed_at: datetime | None
    replay: bool


def create_message(
    session: Session,
    principal: Principal,
    data: MessageIn,
    settings: MessagingSettings,
    *,
    now: datetime,
) -> Created:
    """``POST /messages``: gate and queue one message; a replay (same case, template and
    day) answers with the same message."""
    require(principal, "contact.create")
    case = case_for(session, principal, data.case_id, for_update=True)
    point = repo.point(session, data.contact_point_id)
    if point is None or point.debtor_id != case.debtor_id:
        raise InvalidInput(
            f"contact point {data.contact_point_id} does not belong to this case's debtor",
            field="contact_point_id",
        )
    if point.kind not in CHANNEL_KINDS[data.channel]:
        raise InvalidInput(
            f"channel {data.channel} needs a {' or '.join(sorted(CHANNEL_KINDS[data.channel]))} "
            f"contact point, not {point.kind}",
            field="channel",
        )
    name, creditor, tz, due_fen = repo.case_facts(session, case.id)
    day = business_day_in(now, tz)
    key = message_key(case.id, data.template_code, day)
    existing = repo.by_key(session, key)
    if existing is not None and existing.status != "blocked":
        return Created(message_out(existing), True, [], None, replay=True)
    templates = active_templates(session, principal, now=now)
    template = templates.get(data.template_code)
    if template is None or template.channel != data.channel:
        raise NotFound(
            f"no active {data.channel} template {data.template_code!r}", field="template_code"
        )
    if unknown_variables(template.body):
        raise Conflict(f"template {template.code} uses unknown variables "
                       f"{', '.join(unknown_variables(template.body))}")  # fmt: skip
    variables = _variables(settings, case_id=case.id, name=name, creditor=creditor,
                           due_fen=due_fen, day=day)  # fmt: skip
    body = render(template.body, variables.as_dict())
    pack = creditor_pack(session, case.creditor_id)
    content = _screen_rules(body, template.audience, "us-regf" if pack.startswith("us") else "cn")
    if content:
        raise Conflict(
            f"the rendered message has banned content ({', '.join(content)}); fix the template",
            rules=content,
        )
    checked = gate(
        session, principal,
        CheckIn(case_id=case.id, contact_point_id=point.id, channel=data.channel, at=now),
        now=now,
    )  # fmt: skip
    status = "queued" if checked.allowed else "blocked"
    values: dict[str, Any] = {
        "status": status, "rule_ids": [r.id for r in checked.rules],
        "next_allowed_at": checked.next_allowed_at, "updated_at": now, "body": body,
        "template_version": template.version, "contact_point_id": point.id,
        "params": variables.as_dict(),
    }  # fmt: skip
    if existing is None:
        message = repo.add(
            session, key=key, day=day, case_id=case.id, channel=data.channel,
            template_code=template.code, error="", source="api", attempts=0,
            created_by=principal.username, created_at=now, **values,
        )  # fmt: skip
    else:
        repo.set_values(session, existing.id, **values)
        session.refresh(existing)
        message = existing
    append_event(
        session, at=now, actor=principal.username,
        type="message.queued" if checked.allowed else "message.blocked",
        entity_type="message", entity_id=message.id, case_id=case.id,
        payload={"key": key, "channel": data.channel, "rules": values["rule_ids"]},
    )  # fmt: skip
    return Created(
        message_out(message),
        checked.allowed,
        checked.rules,
        checked.next_allowed_at,
        replay=existing is not None,
    )


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
            picked = _selection_frame(session, options.selection)
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


def _selection_frame(session: Session, selection: Sequence[Any]) -> pl.DataFrame:
    facts = repo.selected_candidates(session, [(s.case_id, s.contact_point_id) for s in selection])
    rows = [
        {
            "case_id": s.case_id, "debtor_id": facts[s.case_id][1],
            "creditor_id": facts[s.case_id][2], "contact_point_id": s.contact_point_id,
            "channel": s.channel, "template_code": s.template_code,
            "debtor_name": facts[s.case_id][3], "creditor_name": facts[s.case_id][4],
            "due_fen": facts[s.case_id][5], "window_start": None,
        }
        for s in selection
        if s.case_id in facts
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=repo.CANDIDATE_SCHEMA)


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
