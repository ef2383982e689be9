"""Targets: what happened in (D, D + 30], against hand-computed examples (pure), and read from
the store after the story of ``tests/scoring/story.py`` (both stores).

Pure example, D = 2027-01-10 (Beijing), D + 30 = 2027-02-09:

Case 1 owes 1,000.00 at D in M2 (overdue since D−40) and pays 100.00 on D+5, exactly 10 %: at
D+30 its DPD is 70 (M3): pay, roll. Case 2 owes 1,000.00 in M1 (overdue since D−10): 99.99 on
D+3, 200.00 paid and reversed within the window, 500.00 on D+31 and 700.00 on D itself count for
nothing; at D+30 it is in M2: roll only. Case 3 owes 500.00 in M2 and pays it all on D+20:
pay, cure. Case 4 owes 2,000.00 in instalments of 1,000.00 overdue since D−1 and pays one on
D+10: the next falls due on D+30, so its DPD is 0 (cured while still owing): pay, cure.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from sqlalchemy import Engine

from cuishou.scoring.features import FeatureFrames
from cuishou.scoring.repository import targets_at
from cuishou.scoring.targets import CASE_TARGETS_SCHEMA, PROMISE_TARGETS_SCHEMA, build_targets
from tests.scoring.story import D as STORY_D
from tests.scoring.story import live_after_d, live_until_d
from tests.scoring.test_features import bj

D = date(2027, 1, 10)


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> object:
    moment = day(offset)
    return bj(moment.year, moment.month, moment.day, hour)


FEATURES_AT_D = pl.DataFrame(
    {
        "case_id": [1, 2, 3, 4],
        "owed_fen": [100_000, 100_000, 50_000, 200_000],
        "bucket_rank": [2, 1, 2, 1],
    }
)


def later_frames() -> FeatureFrames:
    """The frames as known at the end of D + 30."""
    cases = pl.DataFrame(
        {
            "case_id": [1, 2, 3, 4, 9],
            "creditor_id": [1] * 5,
            "debtor_id": [1, 2, 3, 4, 9],
            "opened_on": [date(2026, 11, 1)] * 5,
            "tz": ["Asia/Shanghai"] * 5,
            "id_number": [None] * 5,
        }
    )
    accounts = pl.DataFrame(
        [
            (1, 1, "x", 100_000, day(-40), 0, date(2026, 11, 1), 90_000, 100_000),
            (2, 2, "x", 100_000, day(-10), 0, date(2026, 11, 1), 90_001, 100_000),
            (3, 3, "x", 50_000, day(-40), 0, date(2026, 11, 1), 0, 50_000),
            (4, 4, "x", 200_000, day(-1), 100_000, date(2026, 11, 1), 100_000, 200_000),
        ],
        schema=[
            "account_id", "case_id", "product_code", "snapshot_due_fen", "overdue_since",
            "installment_fen", "placed_on", "owed_fen", "original_fen",
        ],
        orient="row",
    )  # fmt: skip
    payments = pl.DataFrame(
        [
            (1, "a", at(5), 10_000, None),
            (2, "b0", at(0, 20), 70_000, None),  # on D: before the window
            (2, "b1", at(3), 9_999, None),
            (2, "b2", at(2), 20_000, at(10)),  # reversed within the window
            (2, "b3", at(31), 50_000, None),  # after the window
            (3, "c", at(20), 50_000, None),
            (4, "d", at(10), 100_000, None),
        ],
        schema=["account_id", "reference", "paid_at", "amount_fen", "reversed_at"],
        orient="row",
    )
    promises = pl.DataFrame(
        [
            (1, 1, at(-5), 1_000, "kept", day(10)),
            (2, 1, at(-3), 1_000, "broken", day(5)),
            (3, 2, at(-2), 1_000, "open", None),  # not judged by D + 30
            (4, 2, at(-20), 1_000, "kept", day(-1)),  # judged before D: not open at D
            (5, 2, at(1), 1_000, "open", None),  # taken after D
            (6, 3, at(-1), 1_000, "partly_kept", day(30)),
            (7, 9, at(-1), 1_000, "kept", day(3)),  # case 9 was not open at D
        ],
        schema=["promise_id", "case_id", "created_at", "amount_fen", "status", "judged_on"],
        orient="row",
    )
    return FeatureFrames.of(cases=cases, accounts=accounts, payments=payments, promises=promises)


def test_case_targets_match_the_hand_computed_example() -> None:
    cases, _ = build_targets(FEATURES_AT_D, later_frames(), D)
    assert cases.schema == pl.Schema(CASE_TARGETS_SCHEMA)
    assert cases.to_dicts() == [
        {"case_id": 1, "as_of": D, "pay_30d": True, "cure_30d": False, "roll_30d": True},
        {"case_id": 2, "as_of": D, "pay_30d": False, "cure_30d": False, "roll_30d": True},
        {"case_id": 3, "as_of": D, "pay_30d": True, "cure_30d": True, "roll_30d": False},
        {"case_id": 4, "as_of": D, "pay_30d": True, "cure_30d": True, "roll_30d": False},
    ]


def test_keep_promise_for_each_promise_open_at_d() -> None:
    _, promises = build_targets(FEATURES_AT_D, later_frames(), D)
    assert promises.schema == pl.Schema(PROMISE_TARGETS_SCHEMA)
    assert promises.select("promise_id", "keep_promise").rows() == [
        (1, True), (2, False), (3, None), (6, False),
    ]  # fmt: skip


def test_targets_on_the_store(engine: Engine) -> None:
    story = live_until_d(engine)
    live_after_d(engine, story)
    cases, promises = targets_at(engine, STORY_D)
    got = {row["case_id"]: row for row in cases.iter_rows(named=True)}
    # A: 5,000.00 paid on 11-22 (≥ 10 % of 9,900.00); still owing at 12-20 at DPD 110 (M4)
    assert got[story.case_a] | {"as_of": None} == {
        "case_id": story.case_a, "as_of": None, "pay_30d": True, "cure_30d": False,
        "roll_30d": True,
    }  # fmt: skip
    # B: paid in full on 12-05
    assert (got[story.case_b]["pay_30d"], got[story.case_b]["cure_30d"]) == (True, True)
    assert not got[story.case_b]["roll_30d"]
    # the 11-16 promise of 200.00 (open at D) was kept by the 5,000.00 of 11-22; the 11-10
    # one was judged before D and the 11-24 one taken after it
    assert promises.select("case_id", "keep_promise").rows() == [(story.case_a, True)]
