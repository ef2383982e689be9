"""Template use cases: save a version (screened), activate it (only without findings).

Saving never refuses banned content — the author sees the findings and fixes the text —
but a version with findings can never be activated (nor one missing what it must carry:
an opt-out in electronic messages under ``us-regf``); activating a clean version retires
the code's previous active version. Every step is an event.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.compliance.screening import screen
from cuishou.compliance.service import finding_dicts, stored_findings
from cuishou.kit.errors import Conflict, NotFound
from cuishou.store.tables import MessageTemplate
from cuishou.templates import repository as repo
from cuishou.templates.rules import missing_parts
from cuishou.templates.schemas import TemplateIn, TemplateOut


def template_out(template: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        code=template.code,
        version=template.version,
        channel=template.channel,
        audience=template.audience,
        body=template.body,
        status=template.status,
        findings=stored_findings(template.findings),
        created_by=template.created_by,
        created_at=template.created_at,
        activated_by=template.activated_by,
        activated_at=template.activated_at,
    )


def save_template(
    session: Session, principal: Principal, data: TemplateIn, *, now: datetime
) -> TemplateOut:
    """Save a new draft version of a template, screened for its audience."""
    require(principal, "template.manage")
    findings = screen(data.body, audience=data.audience, pack=data.pack)
    stored = finding_dicts(findings) + [
        {
            "category": part,
            "span": {"start": 0, "end": 0, "text": ""},
            "rule_id": "US-04",
            "pattern_id": f"template.{part}",
        }
        for part in missing_parts(data.body, channel=data.channel, pack=data.pack)
    ]
    template = repo.add(
        session,
        code=data.code,
        version=repo.next_version(session, data.code),
        channel=data.channel,
        audience=data.audience,
        body=data.body,
        status="draft",
        findings=stored,
        created_by=principal.username,
        created_at=now,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="template.saved",
        entity_type="template",
        entity_id=template.id,
        payload={
            "code": template.code,
            "version": template.version,
            "findings": [f["category"] for f in stored],
        },
    )
    return template_out(template)


def activate_template(
    session: Session, principal: Principal, template_id: int, *, now: datetime
) -> TemplateOut:
    """Make a clean draft the active version of its code (the previous one is retired)."""
    require(principal, "template.manage")
    template = repo.get(session, template_id, for_update=True)
    if template is None:
        raise NotFound(f"no template {template_id}", template_id=template_id)
    if template.findings:
        categories = sorted({f["category"] for f in template.findings})
        raise Conflict(
            f"template {template.code} v{template.version} has banned content "
            f"({', '.join(categories)}) and cannot be activated; save a corrected version",
            findings=categories,
        )
    if template.status != "draft":
        raise Conflict(f"template {template.code} v{template.version} is {template.status}")
    repo.retire_active(session, template.code, except_id=template.id)
    template.status = "active"
    template.activated_by = principal.username
    template.activated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"another version of {template.code} was activated at the same moment; reload "
            "and try again",
        ) from exc
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="template.activated",
        entity_type="template",
        entity_id=template.id,
        payload={"code": template.code, "version": template.version},
    )
    return template_out(template)


def list_templates(
    session: Session, principal: Principal, *, status: str | None
) -> list[TemplateOut]:
    require(principal, "template.read")
    return [template_out(t) for t in repo.listing(session, status=status)]


#: the default zh templates the default strategy pack names (``default_templates.yaml``)
DEFAULT_TEMPLATES = resources.files("cuishou.templates") / "default_templates.yaml"


def install_default_templates(
    session: Session, principal: Principal, *, now: datetime
) -> list[TemplateOut]:
    """Save, screen and activate each default template whose code has no active version
    (the demo's; the strategy pack names them). A template with findings stays a draft."""
    raw = yaml.safe_load(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    active = {t.code for t in repo.listing(session, status="active")}
    installed = []
    for entry in raw["templates"]:
        data = TemplateIn.model_validate(entry)
        if data.code in active:
            continue
        saved = save_template(session, principal, data, now=now)
        if not saved.findings:
            saved = activate_template(session, principal, saved.id, now=now)
        installed.append(saved)
    return installed
