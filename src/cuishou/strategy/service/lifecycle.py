"""A strategy's life (策略版本管理): submit a draft, approve or reject it (four eyes),
activate it from a date, roll back; validate and diff on the way.

Fetch → decide → act, and never commit (the edge does). Each step is an event on the
version (``entity_type`` ``strategy``) with its actor and the injected ``now``:
``strategy.submitted``, ``.approved``, ``.rejected``, ``.activated``, ``.retired``,
``.rolled_back``, ``.restored``.

Which version is in force is one question with one answer (``repository.effective_version``):
of the active versions, the one that took effect last on or before the day. Activating a
version for today retires the one in force (superseded); one activated for a later date is
``scheduled`` and the version in force stays until then. Rollback retires the version in
force today and brings back the one in force before it took effect, from today — so a
second rollback undoes the first. Days are business days in the deployment's zone
(Asia/Shanghai): a strategy is one for the whole book.

``principal``: a person (the API, the pages, ``--as USER`` on the command line), whose role
must hold the permission; ``None``: the command line acting as its operator (``actor``),
like ``cuishou models promote``. Four eyes compares the names of author and approver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.compliance.pack import DEFAULT_PACK, load_pack
from cuishou.kit.clock import DEFAULT_TZ, business_day_in
from cuishou.kit.errors import Conflict, InvalidInput, PermissionDenied
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import StrategyVersion
from cuishou.strategy.definition import (
    Strategy,
    StrategyError,
    shipped_text,
    strategy_from_text,
    text_sha256,
)
from cuishou.strategy.diff import Diff, diff_strategies
from cuishou.strategy.repository import planning as planning_repo
from cuishou.strategy.repository import versions as repo
from cuishou.strategy.schemas import (
    DiffOut,
    EventOut,
    ReportOut,
    SideOut,
    VersionDetail,
    VersionOut,
)
from cuishou.strategy.validate import (
    Report,
    StoreFacts,
    TemplateFact,
    document_problem,
    validate,
)

ENTITY = "strategy"


def today_of(now: datetime) -> date:
    """The business day of ``now`` for strategies (the deployment's zone)."""
    return business_day_in(now, DEFAULT_TZ)


def _acting(principal: Principal | None, actor: str, permission: str) -> str:
    if principal is not None:
        require(principal, permission)
        return principal.username
    return actor


def _event(
    session: Session, version: StrategyVersion, kind: str, *, actor: str, now: datetime,
    **payload: Any,
) -> None:  # fmt: skip
    append_event(
        session,
        at=now,
        actor=actor,
        type=f"strategy.{kind}",
        entity_type=ENTITY,
        entity_id=version.id,
        payload={"code": version.code, "version": version.version, **payload},
    )


def _name(version: StrategyVersion) -> str:
    return f"{version.code}@{version.version}"


# --------------------------------------------------------------------------- reading


def state_of(version: StrategyVersion, in_force_id: int | None, today: date) -> str:
    if version.status != "active":
        return version.status
    if version.id == in_force_id:
        return "in_force"
    if version.effective_from is not None and version.effective_from > today:
        return "scheduled"
    return "superseded"


def version_out(version: StrategyVersion, *, in_force_id: int | None, today: date) -> VersionOut:
    return VersionOut.model_validate(
        {
            **{c: getattr(version, c) for c in VersionOut.model_fields if c != "state"},
            "state": state_of(version, in_force_id, today),
        }
    )


def _in_force_id(session: Session, today: date) -> int | None:
    current = repo.effective_version(session, today)
    return current.id if current is not None else None


def list_versions(
    session: Session, principal: Principal | None, *, now: datetime
) -> list[VersionOut]:
    if principal is not None:
        require(principal, "strategy.read")
    today = today_of(now)
    in_force = _in_force_id(session, today)
    return [version_out(v, in_force_id=in_force, today=today) for v in repo.list_versions(session)]


def show(
    session: Session, principal: Principal | None, version_id: int, *, now: datetime
) -> VersionDetail:
    if principal is not None:
        require(principal, "strategy.read")
    version = repo.get_version(session, version_id)
    today = today_of(now)
    out = version_out(version, in_force_id=_in_force_id(session, today), today=today)
    document = strategy_from_text(version.body, source=_name(version))
    return VersionDetail(
        **out.model_dump(),
        body=version.body,
        document=document.model_dump(mode="json", by_alias=True, exclude_none=True),
        history=[
            EventOut(at=e.at, actor=e.actor, type=e.type, payload=e.payload)
            for e in repo.version_events(session, version.id)
        ],
    )


def version_status(session: Session, version_id: int) -> str:
    """Where a stored version stands (``draft`` … ``retired``); unknown ids are not found."""
    return repo.get_version(session, version_id).status


def in_force(session: Session, *, now: datetime) -> StrategyVersion | None:
    return repo.effective_version(session, today_of(now))


def resolve(session: Session, spec: str) -> tuple[str, str]:
    """``(source, text)`` of a stored version named ``code@version`` (or ``#id``)."""
    if spec.startswith("#") and spec[1:].isdigit():
        version = repo.get_version(session, int(spec[1:]))
        return _name(version), version.body
    code, sep, number = spec.rpartition("@")
    if not sep or not code or not number.isdigit():
        raise InvalidInput(
            f"{spec!r} names no stored strategy: write code@version (e.g. default@2)",
            field="spec",
        )
    version = repo.version_by_code(session, code, int(number))
    return _name(version), version.body


# --------------------------------------------------------------------------- the lifecycle


def submit(
    session: Session,
    text: str,
    *,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
    note: str = "",
    source: str = "submitted text",
) -> StrategyVersion:
    """A new draft of the strategy the text holds (the next version of its code)."""
    actor = _acting(principal, actor, "strategy.edit")
    strategy = strategy_from_text(text, source=source)
    sha256 = text_sha256(text)
    same = repo.same_text(session, strategy.code, sha256)
    if same is not None:
        raise Conflict(
            f"this text is already {_name(same)} ({same.status}); change it before submitting",
            version_id=same.id,
        )
    version = repo.add_version(
        session,
        code=strategy.code,
        version=repo.next_version(session, strategy.code),
        zh=strategy.zh,
        en=strategy.en,
        body=text,
        sha256=sha256,
        status="draft",
        note=note,
        author=actor,
        created_at=now,
    )
    _event(session, version, "submitted", actor=actor, now=now, sha256=sha256, note=note)
    return version


def _draft(session: Session, version_id: int) -> StrategyVersion:
    version = repo.get_version(session, version_id, for_update=True)
    if version.status != "draft":
        raise Conflict(
            f"{_name(version)} is {version.status}; only a draft can be approved or rejected"
        )
    return version


def approve(
    session: Session,
    version_id: int,
    *,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
    note: str = "",
) -> StrategyVersion:
    """Approve a draft: four eyes — the approver is not its author."""
    actor = _acting(principal, actor, "strategy.approve")
    version = _draft(session, version_id)
    if version.author.lower() == actor.lower():
        raise PermissionDenied(
            f"four eyes: {actor} wrote {_name(version)} and so cannot approve it; another "
            "strategy manager or a manager must",
            permission="strategy.approve",
        )
    version.status = "approved"
    version.approved_by = actor
    version.approved_at = now
    session.flush()
    _event(session, version, "approved", actor=actor, now=now, note=note)
    return version


def reject(
    session: Session,
    version_id: int,
    *,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
    note: str = "",
) -> StrategyVersion:
    """Reject a draft (its author may withdraw it the same way); the text is kept."""
    actor = _acting(principal, actor, "strategy.approve")
    version = _draft(session, version_id)
    version.status = "rejected"
    session.flush()
    withdrawn = version.author.lower() == actor.lower()
    _event(session, version, "rejected", actor=actor, now=now, note=note, withdrawn=withdrawn)
    return version


def _retire(
    session: Session, version: StrategyVersion, *, actor: str, now: datetime, reason: str,
    by: StrategyVersion,
) -> None:  # fmt: skip
    version.status = "retired"
    version.retired_at = now
    if reason == "replaced":  # never in force: it has no effective date to remember
        version.effective_from = None
    session.flush()
    _event(session, version, "retired", actor=actor, now=now, reason=reason, by=_name(by),
           by_id=by.id)  # fmt: skip


def _settle(session: Session, *, today: date, actor: str, now: datetime) -> None:
    """Retire every active version that can no longer come into force: superseded by the
    one in force today, or taking effect the same day as a later activation."""
    current = repo.effective_version(session, today)
    actives = repo.active_versions(session)
    for version in actives:
        if current is None or version.id == current.id or version.effective_from is None:
            continue
        if version.effective_from <= today:
            _retire(session, version, actor=actor, now=now, reason="superseded", by=current)
    by_day: dict[date, list[StrategyVersion]] = {}
    for version in actives:
        day = version.effective_from
        if version.status == "active" and day is not None and day > today:
            by_day.setdefault(day, []).append(version)
    for scheduled in by_day.values():
        winner = max(scheduled, key=lambda v: (v.activated_at or now, v.id))
        for version in scheduled:
            if version.id != winner.id:
                _retire(session, version, actor=actor, now=now, reason="replaced", by=winner)


def activate(
    session: Session,
    version_id: int,
    *,
    actor: str,
    now: datetime,
    effective_from: date | None = None,
    principal: Principal | None = None,
) -> StrategyVersion:
    """Put an approved version in force from ``effective_from`` (today or later; default
    today). Today: the version in force is retired. Later: it is scheduled."""
    actor = _acting(principal, actor, "strategy.activate")
    today = today_of(now)
    day = effective_from or today
    if day < today:
        raise InvalidInput(
            f"effective_from {day.isoformat()} is in the past (today is {today.isoformat()}); "
            "a strategy takes effect today or later",
            field="effective_from",
        )
    version = repo.get_version(session, version_id, for_update=True)
    if version.status != "approved":
        hint = " (approve it first)" if version.status == "draft" else ""
        raise Conflict(f"{_name(version)} is {version.status}; only an approved version can "
                       f"be activated{hint}")  # fmt: skip
    before = repo.effective_version(session, today)
    version.status = "active"
    version.effective_from = day
    version.activated_by = actor
    version.activated_at = now
    session.flush()
    _event(session, version, "activated", actor=actor, now=now,
           effective_from=day.isoformat(), replaces=_name(before) if before else None)  # fmt: skip
    _settle(session, today=today, actor=actor, now=now)
    return version


@dataclass(frozen=True, slots=True)
class Rollback:
    retired: StrategyVersion
    restored: StrategyVersion


def rollback(
    session: Session, *, actor: str, now: datetime, principal: Principal | None = None
) -> Rollback:
    """Retire the version in force and bring back, from today, the one in force before it."""
    actor = _acting(principal, actor, "strategy.activate")
    today = today_of(now)
    current = repo.effective_version(session, today)
    if current is None:
        raise Conflict("no strategy is in force today, so there is nothing to roll back")
    previous = repo.in_force_before(session, current)
    if previous is None:
        raise Conflict(
            f"{_name(current)} is the first strategy ever in force; there is no earlier "
            "version to roll back to"
        )
    current.status = "retired"
    current.retired_at = now
    previous.status = "active"
    previous.effective_from = today
    previous.activated_by = actor
    previous.activated_at = now
    previous.retired_at = None
    session.flush()
    _event(session, current, "rolled_back", actor=actor, now=now, restored=_name(previous),
           restored_id=previous.id)  # fmt: skip
    _event(session, previous, "restored", actor=actor, now=now, effective_from=today.isoformat(),
           replaces=_name(current), replaces_id=current.id)  # fmt: skip
    _settle(session, today=today, actor=actor, now=now)
    return Rollback(retired=current, restored=previous)


# --------------------------------------------------------------------------- validate, diff


def store_facts(session: Session, *, as_of: date) -> StoreFacts:
    """What validation checks a strategy against: the open cases, active templates, each
    creditor's rule pack and the known products."""
    return StoreFacts(
        cases=planning_repo.open_cases(SessionBulk(session), as_of),
        templates={
            code: TemplateFact(code, channel, audience)
            for code, channel, audience in repo.active_templates(session)
        },
        packs={code: load_pack(pack) for code, pack in repo.creditor_packs(session).items()},
        products=repo.product_codes(session),
    )


def check(strategy: Strategy, facts: StoreFacts | None) -> Report:
    """:func:`validate` against the store's facts, the default rule pack and the codes of
    the label pack scoring gives (a label no rule gives matches no case)."""
    from cuishou.scoring.service import default_label_pack  # YAML and Polars load here

    labels = frozenset(rule.code for rule in default_label_pack().labels)
    return validate(strategy, store=facts, default_pack=load_pack(DEFAULT_PACK), labels=labels)


def check_text(
    session: Session | None,
    text: str,
    *,
    as_of: date,
    principal: Principal | None = None,
    source: str = "submitted text",
) -> Report:
    """Every problem of a strategy text (``session`` ``None``: without a store)."""
    if principal is not None:
        require(principal, "strategy.read")
    try:
        strategy = strategy_from_text(text, source=source)
    except StrategyError as exc:
        return document_problem(exc.message)
    facts = store_facts(session, as_of=as_of) if session is not None else None
    return check(strategy, facts)


def diff_texts(a: tuple[str, str], b: tuple[str, str]) -> tuple[Diff, Strategy, Strategy]:
    """The diff of two ``(source, text)`` strategies."""
    first = strategy_from_text(a[1], source=a[0])
    second = strategy_from_text(b[1], source=b[0])
    return diff_strategies(first, second), first, second


def diff_against_in_force(
    session: Session, text: str, *, now: datetime, principal: Principal | None = None
) -> tuple[str, Diff] | None:
    """What ``text`` changes from the version in force (``None``: none is)."""
    if principal is not None:
        require(principal, "strategy.read")
    current = in_force(session, now=now)
    if current is None:
        return None
    diff, _, _ = diff_texts((_name(current), current.body), ("edited text", text))
    return _name(current), diff


def default_text() -> str:
    """The shipped default strategy (a starting point for a new one)."""
    return shipped_text()


# --------------------------------------------------------------------------- the API's shapes


def described(session: Session, version: StrategyVersion, *, now: datetime) -> VersionOut:
    today = today_of(now)
    return version_out(version, in_force_id=_in_force_id(session, today), today=today)


def diff_stored(session: Session, principal: Principal | None, a: str, b: str) -> DiffOut:
    """The diff of two stored versions, each named by id or ``code@version``."""
    if principal is not None:
        require(principal, "strategy.read")
    sides = [resolve(session, f"#{spec}" if spec.isdigit() else spec) for spec in (a, b)]
    diff, first, second = diff_texts(sides[0], sides[1])
    return DiffOut(
        a=SideOut(source=sides[0][0], code=first.code, sha256=text_sha256(sides[0][1])),
        b=SideOut(source=sides[1][0], code=second.code, sha256=text_sha256(sides[1][1])),
        **diff.to_json(),
    )


def report_out(report: Report) -> ReportOut:
    return ReportOut.model_validate(report.to_json())
