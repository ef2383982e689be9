"""No leakage: features as of D use only what was known at the end of D.

On both stores: build features at D, live on past D through the real services (payments and a
reversal of a payment made before D, contacts, a contact point marked invalid, promises and
their judgement, a hold lifted and another opened, new accounts and cases, bucket moves and a
case settled by later daily cycles), rebuild at D: the frames are equal. The same holds for the
pure step given frames with later rows added.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from cuishou.scoring.features import build_features
from cuishou.scoring.repository import features_at
from tests.scoring.story import D, invalid_points, live_after_d, live_until_d
from tests.scoring.test_features import D as PURE_D
from tests.scoring.test_features import bj, frames

pytestmark = pytest.mark.slow


def test_features_at_d_do_not_change_when_later_events_arrive(engine: Engine) -> None:
    story = live_until_d(engine)
    before = features_at(engine, D)
    assert before.get_column("case_id").to_list() == sorted([story.case_a, story.case_b])

    live_after_d(engine, story)
    assert story.m1 in invalid_points(engine, story.debtor_id)  # the later facts are stored
    after = features_at(engine, D)

    assert_frame_equal(before, after)
    # and they would have changed the features of a later date
    later = features_at(engine, D.replace(day=30)).filter(pl.col("case_id") == story.case_a)
    a = before.filter(pl.col("case_id") == story.case_a)
    for column in ("paid_fen_90d", "reversals", "accounts", "promises_made_180d", "co_debts",
                   "dispute_hold", "complaint_hold"):  # fmt: skip
        assert later.item(0, column) != a.item(0, column), column
    # M1 marked invalid on 11-23 (a new own mobile is recorded on 11-27)
    points = features_at(engine, D.replace(day=24)).filter(pl.col("case_id") == story.case_a)
    assert (a.item(0, "debtor_points_valid"), points.item(0, "debtor_points_valid")) == (1, 0)


def test_the_pure_step_cuts_later_rows_itself() -> None:
    base = frames()
    later = pl.DataFrame(
        {
            "account_id": [100, 200],
            "reference": ["L1", "L2"],
            "paid_at": [bj(2027, 1, 11, 0, 5), bj(2027, 2, 1)],
            "amount_fen": [1, 2],
            "reversed_at": [None, None],
        }
    )
    extra = replace(
        base,
        payments=pl.concat([base.payments, later.cast(base.payments.schema)]),
        contacts=pl.concat(
            [
                base.contacts,
                pl.DataFrame(
                    {
                        "case_id": [1, 2],
                        "at": [bj(2027, 1, 11, 0, 1), bj(2027, 1, 12)],
                        "outcome": ["connected_debtor", "refused"],
                        "point_owner": ["debtor", "debtor"],
                        "notes": ["失业", "失业"],
                    }
                ).cast(base.contacts.schema),
            ]
        ),
    )
    assert_frame_equal(build_features(base, PURE_D), build_features(extra, PURE_D))
