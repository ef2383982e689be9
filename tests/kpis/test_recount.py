"""Property: the KPI totals equal a recount from the raw tables, for random shops."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from cuishou.contact.rules import OUTCOMES
from cuishou.kit.clock import CHINA_TZ
from cuishou.kpis import service
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, Contact, LedgerEntry, Promise, User
from tests.factories import make_payment
from tests.web.factories import debtor_mobile, make_case, make_team, make_user

START, END = date(2026, 11, 2), date(2026, 11, 15)


def _random_shop(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    with transaction(engine) as session:
        team = make_team(session, name=f"t{seed}")
        users = [make_user(session, username=f"u{seed}_{i}", team=team) for i in range(3)]
        for _ in range(rng.randint(3, 8)):
            user = rng.choice([*users, None])
            case = make_case(session, assigned=user, team=team, due_fen=rng.randint(1, 50) * 10_000)
            account = session.scalars(select(Account).where(Account.case_id == case.id)).one()
            point = debtor_mobile(session, case)
            for _ in range(rng.randint(0, 12)):
                # anywhere from a day before the period to a day after it, any hour
                at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
                    minutes=rng.randint(0, 17 * 1440)
                )
                outcome = rng.choice(list(OUTCOMES))
                party = (
                    rng.choice(["debtor", "third_party"]) if OUTCOMES[outcome].connected else "none"
                )
                contact = Contact(
                    case_id=case.id, contact_point_id=point.id, user_id=rng.choice(users).id,
                    channel=rng.choice(["call", "call", "sms", "visit"]), party=party,
                    outcome=outcome, notes="", at=at, created_at=at,
                )  # fmt: skip
                session.add(contact)
                session.flush()
                if party == "debtor" and rng.random() < 0.5:
                    session.add(
                        Promise(
                            case_id=case.id, contact_id=contact.id, amount_fen=1_000,
                            due_date=date(2026, 11, 20), created_by=contact.user_id,
                            status=rng.choice(["open", "kept", "partly_kept", "broken"]),
                            created_at=at,
                        )
                    )  # fmt: skip
            for _ in range(rng.randint(0, 3)):
                paid = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
                    minutes=rng.randint(0, 17 * 1440)
                )
                make_payment(
                    session, account=account, amount_fen=rng.randint(1, 500) * 100, paid_at=paid
                )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_equal_a_recount_from_the_raw_tables(engine: Engine, seed: int) -> None:
    _random_shop(engine, seed)
    total = service.figures(engine, None, START, END).total

    def in_period(at: datetime) -> bool:
        return START <= at.astimezone(CHINA_TZ).date() <= END

    with transaction(engine) as session:
        contacts = [c for c in session.scalars(select(Contact)) if in_period(c.at)]
        promises = [p for p in session.scalars(select(Promise)) if in_period(p.created_at)]
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind.in_(["payment", "reversal"]))
        ).all()
        cases = session.scalars(select(Case)).all()
    calls = [c for c in contacts if c.channel == "call"]
    assert total.contacts == len(contacts)
    assert total.calls == len(calls)
    assert total.connected == sum(OUTCOMES[c.outcome].connected for c in calls)
    assert total.right_party == sum(c.party == "debtor" for c in contacts)
    assert total.complaints == sum(c.outcome == "complaint" for c in contacts)
    assert total.promises == len(promises)
    assert total.kept == sum(p.status == "kept" for p in promises)
    assert total.judged == sum(p.status != "open" for p in promises)
    assert total.collector_days == len(
        {(c.user_id, c.at.astimezone(CHINA_TZ).date()) for c in contacts}
    )
    recovered = sum(
        e.credit_fen - e.fee_fen - e.penalty_fen - e.interest_fen - e.principal_fen
        for e in entries
        if START <= e.effective_on <= END
    )
    assert total.recovered == f"{recovered // 100}.{recovered % 100:02d}"
    assert total.book_cases <= len(cases)
    # by collector: each contact and promise counts for the user who made it, whoever has
    # the case (the shop's contacts are made by any of the team's users)
    rows = service.figures(engine, None, START, END, "collector").rows or []
    with transaction(engine) as session:
        names = {uid: name for uid, name in session.execute(select(User.id, User.username))}
    for row in rows:
        mine = [c for c in contacts if names[c.user_id] == row.key]
        assert row.contacts == len(mine), row.key
        assert row.calls == sum(c.channel == "call" for c in mine), row.key
        assert row.promises == sum(names[p.created_by] == row.key for p in promises), row.key
    assert sum(r.contacts for r in rows) == total.contacts
