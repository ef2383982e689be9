"""``cuishou compliance …``: ask the gate, list and validate rule packs, set interest caps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape

from cuishou.auth.rules import Principal
from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.kit.clock import utc_now
from cuishou.kit.errors import InvalidInput

compliance_app = typer.Typer(help="Compliance gate and rule packs (合规).", no_args_is_help=True)

#: who the command line acts as: a compliance officer's view (every case), recorded as cli
CLI_PRINCIPAL = Principal(
    user_id=0, username="cli", role="compliance", team_id=None, agency_id=None
)


@compliance_app.command("check")
@friendly_errors
def check_command(
    case: int = typer.Option(..., "--case", help="Case id."),
    contact_point: int = typer.Option(..., "--contact-point", help="Contact point id."),
    channel: str = typer.Option(
        "call", "--channel", help="call, sms, wechat, email, letter, visit."
    ),
    at: str | None = typer.Option(
        None, "--at", help="When, ISO 8601 with a zone (default now), e.g. 2026-11-25T21:30+08:00."
    ),
    collectors: int | None = typer.Option(
        None, "--collectors", help="Collectors going on a field visit (required for visit)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """May this contact happen? Allowed or not, the rules, the next allowed time."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from pydantic import ValidationError

    from cuishou.compliance import service
    from cuishou.compliance.schemas import CheckIn
    from cuishou.store.db import transaction

    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError as exc:
            raise InvalidInput(f"--at {at!r} is not an ISO 8601 time", field="at") from exc
    try:
        data = CheckIn.model_validate(
            {"case_id": case, "contact_point_id": contact_point, "channel": channel,
             "at": when, "collectors": collectors}
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from exc
    engine = store_engine()
    try:
        with transaction(engine) as session:
            decision = service.gate(session, CLI_PRINCIPAL, data, now=utc_now())
    finally:
        engine.dispose()
    if json_output:
        print_json(decision.model_dump())
        return
    if decision.allowed:
        console.print(f"[green]allowed[/] ({decision.pack}, {decision.at.isoformat()})")
        return
    console.print(f"[red]not allowed[/] ({decision.pack}, {decision.at.isoformat()})")
    for rule in decision.rules:
        console.print(f"  {rule.id}: {rule.reason_zh} — {rule.reason_en}")
    nxt = decision.next_allowed_at
    console.print(f"  next allowed: {nxt.isoformat()}" if nxt else "  next allowed: not by waiting")


@compliance_app.command("packs")
@friendly_errors
def packs_command(
    json_output: bool = typer.Option(False, "--json", help="Print the packs as JSON."),
) -> None:
    """The rule packs that ship with Cuishou."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.compliance.pack import load_pack, shipped_packs

    packs = [load_pack(name) for name in shipped_packs()]
    if json_output:
        print_json([{"id": p.id, "version": p.version, "name": p.name_en} for p in packs])
        return
    for pack in packs:
        console.print(f"{pack.id} {pack.version} — {pack.name_zh} / {pack.name_en}")


@compliance_app.command("use-pack")
@friendly_errors
def use_pack_command(
    pack: str = typer.Argument(..., help="A shipped pack id (cn, us-regf) or a pack file path."),
    creditor: str = typer.Option(..., "--creditor", help="Creditor code."),
) -> None:
    """Judge a creditor's contacts by this rule pack (validated before it is used)."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.compliance import service
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            pack_id = service.use_pack(
                session, creditor_code=creditor, pack=pack, actor="cli", now=utc_now()
            )
    finally:
        engine.dispose()
    console.print(f"creditor {creditor} now uses rule pack {pack_id} ({pack})")


@compliance_app.command("interest-cap")
@friendly_errors
def interest_cap_command(
    creditor: str = typer.Option(..., "--creditor", help="Creditor code."),
    product: str | None = typer.Option(
        None, "--product", help="Product code: set the cap for this product of the creditor."
    ),
    cap: str | None = typer.Option(
        None,
        "--cap",
        help="private_lending_4x_lpr, fixed:<rate>% (e.g. fixed:24%) or none; with --product "
        "also inherit (the creditor's cap applies). Without --cap: show the settings.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """The interest cap a creditor's accounts are judged against (利率上限), per product too.

    4 × LPR binds private lending only (CN-21); licensed lenders default to none. Each change
    is a ``creditor.interest_cap_changed`` event.
    """
    if cap is None and product is not None:
        raise InvalidInput("--product needs --cap (without --cap the settings are shown)",
                           field="cap")  # fmt: skip
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.compliance import interest_cap_settings as caps
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            if cap is None:
                settings = caps.settings_of(session, creditor_code=creditor)
            else:
                settings = caps.set_interest_cap(
                    session, creditor_code=creditor, product_code=product, cap=cap,
                    actor="cli", now=utc_now(),
                )  # fmt: skip
    finally:
        engine.dispose()
    if json_output:
        print_json(
            {"creditor": settings.creditor, "interest_cap": settings.interest_cap,
             "products": settings.products}
        )  # fmt: skip
        return
    console.print(f"creditor {settings.creditor}: interest cap {settings.interest_cap}")
    for code, product_cap in settings.products.items():
        console.print(f"  product {code}: {product_cap}")


@compliance_app.command("validate")
@friendly_errors
def validate_command(path: Path = typer.Argument(..., help="A rule pack YAML file.")) -> None:
    """Validate a rule pack file; a bad one is refused naming the wrong field."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.compliance.pack import load_pack_file

    pack = load_pack_file(path)
    console.print(f"rule pack {pack.id} {pack.version} is valid ({len(pack.checks())} checks)")


@compliance_app.command("screen")
@friendly_errors
def screen_command(
    text: str = typer.Argument(..., help="The text to screen (a template, a note …)."),
    audience: str = typer.Option("debtor", "--audience", help="debtor or third_party."),
    pack: str = typer.Option("cn", "--pack", help="cn or us-regf (which rule ids are cited)."),
    time_barred: bool = typer.Option(False, "--time-barred", help="The debt is time-barred."),
    json_output: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Screen a text for banned content; exits 1 when something is found."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from pydantic import ValidationError

    from cuishou.compliance import service
    from cuishou.compliance.schemas import ScreenIn

    try:
        data = ScreenIn(
            text=text, audience=audience, pack=pack, time_barred=time_barred,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from exc
    result = service.screen_text(CLI_PRINCIPAL, data)
    if json_output:
        print_json(result.model_dump())
    elif not result.findings:
        console.print("[green]no findings[/]")
    else:
        for f in result.findings:
            console.print(
                f"{f.rule_id} {f.category}: [{f.span.start}:{f.span.end}] "
                f"{escape(f.span.text)} ({f.pattern_id})"
            )
    if result.findings:
        raise typer.Exit(1)


@compliance_app.command("transcripts")
@friendly_errors
def transcripts_command(
    path: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) with columns contact_id, text."),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Import call transcripts: each is screened; banned content raises a QA item.

    Rows that cannot be used (unknown contact, empty text) go to ``<file>.quarantine.csv``
    with the reason; the rest are imported in one transaction.
    """
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.quality.transcripts import import_transcripts
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            outcome = import_transcripts(session, path, actor="cli", now=utc_now())
    finally:
        engine.dispose()
    if json_output:
        print_json(outcome)
        return
    console.print(
        f"{outcome['rows']} rows: {outcome['imported']} imported, "
        f"{outcome['with_findings']} with findings (QA items raised), "
        f"{outcome['quarantined']} quarantined"
        + (f" → {outcome['quarantine_file']}" if outcome["quarantine_file"] else "")
    )
