"""Interest cap settings (利率上限设置): which cap a creditor's accounts are judged against.

Fetch the settings, decide with :mod:`cuishou.compliance.interest_cap` (pure), act with an
event. A creditor has one cap (``creditors.interest_cap``, default ``none``); a product of
that creditor may override it (``creditor_products.interest_cap``). Every reader of demandable
interest — the case file, the agreement calculator — goes through :func:`judge_accounts`,
so they all apply the same cap (ADR 0014).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.compliance import repository as repo
from cuishou.compliance.interest_cap import (
    CreditorCaps,
    InterestCap,
    InterestJudgement,
    LprHistory,
    judge_interest,
    parse_cap,
    shipped_lpr,
)
from cuishou.kit.errors import ConfigError, InvalidInput, NotFound

#: ``--cap inherit`` on a product: drop its override, the creditor's cap applies again
INHERIT = "inherit"


@dataclass(frozen=True, slots=True)
class CapSettings:
    """A creditor's cap settings as a person reads them."""

    creditor: str
    interest_cap: str
    products: dict[str, str]


def _stored(text: str, where: str) -> InterestCap:
    try:
        return parse_cap(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: the stored interest cap is not valid: {exc}") from exc


def caps_of(session: Session, creditor_ids: Sequence[int]) -> dict[int, CreditorCaps]:
    """Each creditor's cap and per-product overrides."""
    wanted = sorted(set(creditor_ids))
    products: dict[int, dict[str, InterestCap]] = {creditor_id: {} for creditor_id in wanted}
    for (creditor_id, code), text in repo.product_caps(session, wanted).items():
        where = f"creditor {creditor_id}, product {code}"
        products[creditor_id][code] = _stored(text, where)
    return {
        creditor_id: CreditorCaps(
            default=_stored(text, f"creditor {creditor_id}"), products=products[creditor_id]
        )
        for creditor_id, text in repo.creditor_caps(session, wanted).items()
    }


class AccountTerms(Protocol):
    """What judging an account's interest needs (an :class:`~cuishou.store.tables.Account`
    has it)."""

    @property
    def creditor_id(self) -> int: ...
    @property
    def product_code(self) -> str: ...
    @property
    def interest_fen(self) -> int: ...
    @property
    def annual_rate(self) -> Decimal | None: ...
    @property
    def contract_date(self) -> date | None: ...


def judge_accounts(
    session: Session, accounts: Sequence[AccountTerms], lpr: LprHistory | None = None
) -> list[InterestJudgement]:
    """What of each account's interest may be demanded, under its creditor's cap for its
    product (in the order given)."""
    history = lpr or shipped_lpr()
    caps = caps_of(session, [a.creditor_id for a in accounts])
    return [
        judge_interest(
            a.interest_fen,
            a.annual_rate,
            a.contract_date,
            history,
            cap=caps[a.creditor_id].for_product(a.product_code),
        )
        for a in accounts
    ]


def judge_case(session: Session, case_id: int) -> list[InterestJudgement]:
    """:func:`judge_accounts` for every account of a case (in account id order)."""
    return judge_accounts(session, repo.case_account_terms(session, case_id))


def _cap_of_text(text: str) -> InterestCap:
    try:
        return parse_cap(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="cap") from exc


def settings_of(session: Session, *, creditor_code: str) -> CapSettings:
    creditor = repo.creditor_by_code(session, creditor_code)
    if creditor is None:
        raise NotFound(f"no creditor {creditor_code!r}", creditor=creditor_code)
    caps = caps_of(session, [creditor.id])[creditor.id]
    return CapSettings(
        creditor=creditor.code,
        interest_cap=str(caps.default),
        products={code: str(cap) for code, cap in sorted(caps.products.items())},
    )


def set_interest_cap(
    session: Session,
    *,
    creditor_code: str,
    product_code: str | None,
    cap: str,
    actor: str,
    now: datetime,
) -> CapSettings:
    """Set a creditor's cap, or (with ``product_code``) its cap for one product; ``inherit``
    drops a product's override. Recorded as a ``creditor.interest_cap_changed`` event."""
    creditor = repo.creditor_by_code(session, creditor_code)
    if creditor is None:
        raise NotFound(f"no creditor {creditor_code!r}", creditor=creditor_code)
    inherit = cap.strip().lower() == INHERIT
    if product_code is None:
        if inherit:
            raise InvalidInput("inherit is for a product (--product): a creditor has its own cap",
                               field="cap")  # fmt: skip
        before: str | None = creditor.interest_cap
        after: str | None = str(_cap_of_text(cap))
        creditor.interest_cap = str(after)
    else:
        if not repo.product_known(session, product_code):
            raise InvalidInput(f"no product {product_code!r}", field="product")
        row = repo.creditor_product(session, creditor.id, product_code)
        before = row.interest_cap if row is not None else None
        after = None if inherit else str(_cap_of_text(cap))
        if row is None:
            repo.add_creditor_product(
                session,
                creditor_id=creditor.id,
                product_code=product_code,
                interest_cap=after,
                updated_at=now,
            )
        else:
            row.interest_cap = after
            row.updated_at = now
    append_event(
        session,
        at=now,
        actor=actor,
        type="creditor.interest_cap_changed",
        entity_type="creditor",
        entity_id=creditor.id,
        payload={"product": product_code, "from": before, "to": after},
    )
    session.flush()
    return settings_of(session, creditor_code=creditor.code)
