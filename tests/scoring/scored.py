"""A small scored store for the scoring API, page and browser tests, built through the real
paths: cases from the test factories, contacts through the contact service, a real scorecard
fitted with :func:`cuishou.scoring.models.fit_model` on a synthetic feature frame and kept
in the registry as training keeps it, promoted by the scoring service, and the open cases
scored, graded and labelled by :func:`cuishou.scoring.service.score_open_cases` on two days.

The model predicts ``pay_30d`` from the amount owed and right-party contacts (a smaller
debt is likelier paid), so the factory cases — owing 500.00 to 60,000.00 — fall in
different grades. Labels come from the shipped label pack on the store's features: the case
whose debtor said they lost their job is 暂时困难型 (``hardship``); the one whose debtor
refused with a reason is 争议拒付型 (``dispute``); the one whose only own mobile turned out
空号 is 失联型 (``unreachable``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.kit.clock import CHINA_TZ
from cuishou.scoring import registry
from cuishou.scoring import service as scoring
from cuishou.scoring.catalogue import feature
from cuishou.scoring.grades import cutoffs_by_share
from cuishou.scoring.metrics import evaluate
from cuishou.scoring.models import FittedModel, fit_model
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Team, User
from tests.web.factories import debtor_mobile, make_case, make_user

#: the first and second scoring days (a Tuesday and a Wednesday)
DAY_1 = date(2026, 11, 3)
DAY_2 = date(2026, 11, 4)
TRAINED_AT = datetime(2026, 10, 30, 2, 0, tzinfo=UTC)
SCORED_AT = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
#: what col_a's cases owe, in fen: a spread over the model's range
DUES = (50_000, 180_000, 600_000, 1_500_000, 3_000_000, 6_000_000)
MODEL_FEATURES = ("owed_fen", "right_party_30d")


def synthetic_frame(n: int, *, seed: int) -> pl.DataFrame:
    """Cases whose chance to pay in 30 days falls with the amount owed and rises with
    right-party contacts."""
    rng = np.random.default_rng(seed)
    owed = rng.integers(10_000, 8_000_000, n)
    reached = rng.integers(0, 5, n)
    logit = -0.6e-6 * (owed - 2_000_000) + 0.4 * (reached - 1)
    return pl.DataFrame(
        {
            "case_id": np.arange(n, dtype=np.int64),
            "owed_fen": owed.astype(np.int64),
            "right_party_30d": reached.astype(np.int64),
            "pay_30d": rng.random(n) < 1 / (1 + np.exp(-logit)),
        }
    )


@functools.cache
def fitted() -> FittedModel:
    """The scorecard (fitted once per test process: the fit is pure and seeded)."""
    return fit_model(
        "scorecard", synthetic_frame(3_000, seed=1), "pay_30d", [feature(c) for c in MODEL_FEATURES]
    )


def register(
    session: Session,
    *,
    number: int = 1,
    trained_by: str = "strategist",
    trained_at: datetime = TRAINED_AT,
) -> str:
    """Keep the fitted scorecard in the registry as ``pay_30d-scorecard-<number>``, with its
    out-of-time metrics on a second synthetic sample and cut-offs by share (as training
    does); returns the version name."""
    model = fitted()
    validation = synthetic_frame(2_000, seed=2)
    predicted = model.predict(validation)
    metrics = evaluate(validation["pay_30d"].cast(pl.Int8), predicted["probability"])
    cutoffs = cutoffs_by_share(predicted["score"])
    name = f"pay_30d-scorecard-{number}"
    registry.add_version(
        session,
        version=name,
        target="pay_30d",
        kind="scorecard",
        status="candidate",
        train_from=date(2026, 4, 1),
        train_to=date(2026, 8, 5),
        validation_from=date(2026, 9, 5),
        validation_to=date(2026, 10, 2),
        train_rows=3_000,
        validation_rows=validation.height,
        features=[f.code for f in model.features],
        metrics={"validation": metrics.to_dict(), "snapshots": 23},
        reference={"grade_cutoffs": {"A": cutoffs.a, "B": cutoffs.b, "C": cutoffs.c}},
        artefact=model.to_bytes(),
        sha256=model.sha256,
        trained_by=trained_by,
        trained_at=trained_at,
    )
    return name


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        agency_id=user.agency_id,
    )


def bj(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ).astimezone(UTC)


@dataclass
class Scored:
    version: str
    #: col_a's cases, by what they owe (fen)
    cases: dict[int, int]
    #: the case whose debtor said they lost their job (hardship)
    hardship: int
    #: the case whose debtor refused with a reason (dispute) and the one 空号 (unreachable)
    disputed: int
    unreachable: int
    #: col_b's case (another team)
    other: int


def score_cases(
    engine: Engine, *, col_a: User, team_a: Team, col_b: User, team_b: Team, promote: bool = True
) -> Scored:
    """col_a's six cases and col_b's one, two of col_a's with contacts that give labels; a
    registered scorecard (promoted unless ``promote`` is false) and two scoring days."""
    with transaction(engine) as session:
        cases = {
            make_case(session, assigned=col_a, team=team_a, due_fen=due).id: due for due in DUES
        }
        other = make_case(session, assigned=col_b, team=team_b, due_fen=900_000).id
        ids = list(cases)
        hardship, disputed, unreachable = ids[0], ids[1], ids[4]
        collector = principal_of(col_a)
        for case_id, outcome, notes in (
            (hardship, "connected_debtor", "最近失业了，下月找到工作再还"),
            (disputed, "refused", "金额不对，不认可这笔罚息"),
            (unreachable, "invalid_number", ""),
        ):
            case = session.get(Case, case_id)
            assert case is not None
            at = bj(DAY_1 - timedelta(days=1))
            log_contact(
                session, collector, case_id,
                ContactIn(contact_point_id=debtor_mobile(session, case).id, channel="call",
                          outcome=outcome, notes=notes, at=at),
                now=at,
            )  # fmt: skip
        version = register(session)
        if promote:
            scoring.promote(session, version, actor="strategist", now=TRAINED_AT)
    for day in (DAY_1, DAY_2):
        scoring.score_open_cases(engine, day, now=bj(day, 23))
    return Scored(version, cases, hardship, disputed, unreachable, other)


def make_strategist(session: Session, *, password: str | None = None) -> User:
    return make_user(session, role="strategist", username="strategist", password=password)
