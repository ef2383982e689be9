"""Queueing (入队): render, screen again, gate (bulk for a day, scalar for one) and write the outbox
rows; the key makes a replay or a re-run a no-op.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.compliance.planned import judge_planned
from cuishou.compliance.schemas import CheckIn, RuleOut
from cuishou.compliance.screening import may_have_findings
from cuishou.compliance.service import creditor_pack, gate
from cuishou.kit.clock import business_day_in
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.money import format_yuan_expr
from cuishou.messaging import repository as repo
from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.rules import (
    CHANNEL_KINDS,
    case_ref,
    message_key,
    pay_by,
    render,
    render_frame,
    unknown_variables,
)
from cuishou.messaging.schemas import MessageIn, MessageOut

#: the integration user messages are sent and logged as (a manager's reach, no password)
from cuishou.messaging.service.common import (
    active_templates,
    message_out,
    screen_rules,
    variables_of,
)
from cuishou.store.bulk import SessionBulk
from cuishou.templates.schemas import TemplateOut

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
    # the rendered text is screened again (the variables are in it now): the bulk prefilter
    # passes the texts that cannot have a finding, the rest are screened one by one
    result.seconds["render"] = time.perf_counter() - started
    started = time.perf_counter()
    bodies = rendered["body"].to_list()
    content = [
        screen_rules(body, "debtor", "us-regf" if pack.startswith("us") else "cn") if may else []
        for body, pack, may in zip(
            bodies, rendered["pack"], may_have_findings(bodies, audience="debtor"), strict=True
        )
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
    variables = variables_of(settings, case_id=case.id, name=name, creditor=creditor,
                           due_fen=due_fen, day=day)  # fmt: skip
    body = render(template.body, variables.as_dict())
    pack = creditor_pack(session, case.creditor_id)
    content = screen_rules(body, template.audience, "us-regf" if pack.startswith("us") else "cn")
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


def selection_frame(session: Session, selection: Sequence[Any]) -> pl.DataFrame:
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
