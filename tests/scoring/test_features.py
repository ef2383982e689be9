"""The feature step on hand-built frames: every feature against a hand-computed example.

D is Sunday 2027-01-10. Windows: 30 days from 2026-12-12, 90 days from 2026-10-13, 180 days
from 2026-07-15. Creditor 1 is in Beijing, creditor 2 in New York (13 hours behind in winter).

Case 1 (creditor 1, Beijing; debtor 10): account 100, a lump sum of 1,000.00 owing 830.00 (DPD
41); 101, 3,000.00 in instalments of 1,000.00 owing 1,970.00 (one instalment paid: DPD 9); 102
placed after D. Payments, contacts, promises, holds and bucket history. Case 2 (creditor 2, New
York; debtor 10): 200, 1,000.00 owing 500.00 (DPD 51); its times are cut in New York's zone.
Case 3 (debtor 11): owes 100.00 due on D (DPD 0); a birthday tomorrow. Case 4 is settled and
case 5 opened after D: no rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from cuishou.accounts.rules import bucket_of
from cuishou.kit.ids import birth_date_expr, birth_date_of
from cuishou.scoring.catalogue import FEATURES, KEY_COLUMNS, feature
from cuishou.scoring.config import FeatureConfig, load_feature_config, shipped_config
from cuishou.scoring.features import OUTPUT_SCHEMA, FeatureFrames, build_features
from cuishou.scoring.repository import features_at
from tests.factories import valid_id_number
from tests.scoring.story import D as STORY_D
from tests.scoring.story import live_until_d

D = date(2027, 1, 10)
BJ = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
ID_10 = valid_id_number(serial=1, born=date(1990, 3, 7))
ID_11 = valid_id_number(serial=2, born=date(1985, 1, 11))
ID_12 = valid_id_number(serial=3, born=date(1970, 6, 1))
ID_13 = valid_id_number(serial=4, born=date(1980, 6, 1))


def bj(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=BJ).astimezone(UTC)


def ny(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=NY).astimezone(UTC)


def frames() -> FeatureFrames:
    cases = pl.DataFrame(
        [
            (1, 1, 10, date(2026, 11, 1), "Asia/Shanghai", ID_10),
            (2, 2, 10, date(2026, 12, 1), "America/New_York", ID_10),
            (3, 1, 11, date(2026, 11, 1), "Asia/Shanghai", ID_11),
            (4, 1, 12, date(2026, 11, 1), "Asia/Shanghai", ID_12),
            (5, 1, 13, date(2027, 1, 20), "Asia/Shanghai", ID_13),
        ],
        schema=["case_id", "creditor_id", "debtor_id", "opened_on", "tz", "id_number"],
        orient="row",
    )
    placed = date(2026, 11, 1)
    accounts = pl.DataFrame(
        [
            (100, 1, "credit_card", 100_000, date(2026, 11, 30), 0, placed, 83_000, 100_000),
            (101, 1, "consumer_loan", 300_000, date(2026, 12, 1), 100_000, placed, 197_000,
             300_000),
            (102, 1, "cash_loan", 900_000, date(2026, 12, 1), 0, date(2027, 2, 1), 900_000,
             900_000),
            (200, 2, "personal_loan", 100_000, date(2026, 11, 20), 0, date(2026, 12, 1), 50_000,
             100_000),
            (300, 3, "cash_loan", 10_000, D, 0, placed, 10_000, 10_000),
            (400, 4, "cash_loan", 10_000, date(2026, 10, 1), 0, placed, 0, 10_000),
            (500, 5, "cash_loan", 10_000, date(2026, 10, 1), 0, placed, 10_000, 10_000),
        ],
        schema=[
            "account_id", "case_id", "product_code", "snapshot_due_fen", "overdue_since",
            "installment_fen", "placed_on", "owed_fen", "original_fen",
        ],
        orient="row",
    )  # fmt: skip
    payments = pl.DataFrame(
        [
            (101, "R1", bj(2026, 11, 20), 100_000, None),
            (100, "R2", bj(2026, 12, 20, 23, 30), 10_000, None),
            (100, "R3", bj(2026, 12, 25), 5_000, bj(2027, 1, 5)),  # reversed by D
            (100, "R6", bj(2026, 12, 28), 2_000, None),  # one case payment in two parts
            (101, "R6", bj(2026, 12, 28), 3_000, None),
            (100, "R4", bj(2027, 1, 8), 5_000, bj(2027, 1, 12)),  # reversed after D
            (100, "R5", bj(2027, 1, 11, 0, 30), 9_000, None),  # 01-11 in Beijing: after D
            (200, "S1", ny(2026, 12, 20), 10_000, None),
            (200, "S2", ny(2027, 1, 10, 22), 40_000, None),  # 01-11 in UTC, D in New York
        ],
        schema=["account_id", "reference", "paid_at", "amount_fen", "reversed_at"],
        orient="row",
    )
    history = pl.DataFrame(
        [
            (100, date(2026, 5, 1), 250, "M7+", "new"),  # before the 180 days
            (100, date(2026, 7, 20), 150, "M5", "roll_back"),
            (100, date(2026, 9, 1), 0, "M0", "cure"),
            (100, date(2026, 12, 1), 1, "M1", "roll_forward"),
            (100, date(2026, 12, 31), 31, "M2", "roll_forward"),
            (100, date(2027, 1, 31), 61, "M3", "roll_forward"),  # after D
            (101, date(2026, 12, 2), 1, "M1", "new"),
            (200, date(2026, 12, 2), 12, "M1", "new"),
        ],
        schema=["account_id", "as_of", "dpd", "bucket", "movement"],
        orient="row",
    )
    contacts = pl.DataFrame(
        [
            (1, bj(2026, 11, 15), "refused", "debtor", ""),
            (1, bj(2026, 12, 20, 9), "connected_debtor", "debtor", ""),
            (1, bj(2026, 12, 30), "no_answer", "debtor", ""),
            (1, bj(2027, 1, 2), "refused", "debtor", "说自己失业了，没钱还"),
            (1, bj(2027, 1, 9), "connected_third_party", "third_party", "  "),
            (1, bj(2027, 1, 9, 11), "promise", "debtor", "下周还"),
            (1, bj(2027, 1, 10, 20), "no_answer", "debtor", ""),
            # an SMS sent: no attempt to reach (nor reached), so no count below moves
            (1, bj(2027, 1, 10, 21), "message_sent", "debtor", ""),
            (1, bj(2027, 1, 11, 1), "connected_debtor", "debtor", "住院"),  # after D
        ],
        schema=["case_id", "at", "outcome", "point_owner", "notes"],
        orient="row",
    )
    promises = pl.DataFrame(
        [
            (1, 1, bj(2026, 7, 1), 1_000, "kept", date(2026, 7, 10)),  # before the 180 days
            (2, 1, bj(2026, 10, 1), 1_000, "broken", date(2026, 10, 20)),
            (3, 1, bj(2026, 11, 1), 1_000, "partly_kept", date(2026, 11, 20)),
            (4, 1, bj(2026, 12, 1), 1_000, "kept", date(2026, 12, 5)),
            (5, 1, bj(2027, 1, 9, 11), 1_000, "kept", date(2027, 1, 12)),  # judged after D
            (6, 1, bj(2027, 1, 9, 11), 1_000, "open", None),
            (7, 1, bj(2027, 1, 11), 1_000, "open", None),  # taken after D
        ],
        schema=["promise_id", "case_id", "created_at", "amount_fen", "status", "judged_on"],
        orient="row",
    )
    holds = pl.DataFrame(
        [
            # every case of debtor 10; lifted 01-11 09:00 Beijing = 01-10 20:00 New York
            (10, None, "dispute", bj(2026, 12, 1), bj(2027, 1, 11, 9)),
            (10, 1, "complaint", bj(2026, 12, 1), bj(2027, 1, 10, 9)),  # lifted on D
            (10, 2, "complaint", bj(2026, 12, 1), None),
            (11, None, "cease", bj(2026, 12, 1), None),  # not a dispute or complaint
        ],
        schema=["debtor_id", "case_id", "kind", "opened_at", "lifted_at"],
        orient="row",
    )
    points = pl.DataFrame(
        [
            (10, "debtor", bj(2026, 10, 1), None),
            (10, "debtor", bj(2026, 10, 1), bj(2027, 1, 5)),  # invalid by D everywhere
            (10, "debtor", bj(2026, 10, 1), bj(2027, 1, 11)),  # 01-10 21:00 in New York
            (10, "debtor", bj(2027, 1, 11), None),  # recorded 01-10 21:00 in New York
            (10, "third_party", bj(2026, 10, 1), None),
            (11, "third_party", bj(2027, 1, 11, 9), None),  # recorded after D
        ],
        schema=["debtor_id", "owner", "created_at", "invalidated_at"],
        orient="row",
    )
    return FeatureFrames.of(
        cases=cases, accounts=accounts, payments=payments, history=history, contacts=contacts,
        promises=promises, holds=holds, points=points,
    )  # fmt: skip


EXPECTED: dict[int, dict[str, Any]] = {
    1: {
        "creditor_id": 1, "debtor_id": 10, "as_of": D,
        # 100: lump sum overdue since 11-30 → 41; 101: 1,030.00 paid = one instalment → 9
        "dpd": 41, "bucket": "M2", "bucket_rank": 2,
        "max_dpd_180d": 150,  # the M5 row of 07-20
        "days_in_bucket": 10,  # 100 recorded M2 on 12-31
        "roll_backs_180d": 2, "roll_forwards_180d": 2,  # the 07-20 roll-back and cure; 12-01, 12-31
        "owed_fen": 280_000, "original_fen": 400_000, "owed_share": 0.7, "accounts": 2,
        "product": "consumer_loan",
        # R1, R2, R6 (two parts), R4 (reversed after D); R3 reversed; R5 after D
        "payments_count": 4, "payments_90d": 4, "paid_fen_90d": 120_000, "paid_ratio": 0.3,
        "partial_payments_90d": 3,  # all but R1 are less than the 1,000.00 instalment
        "reversals": 1, "days_since_payment": 2,
        # in 30 days: 12-20 RPC, 12-30 no answer, 01-02 refused, 01-09 third party, 01-09
        # promise, 01-10 no answer
        "attempts_30d": 6, "connected_30d": 4, "connect_rate_30d": 4 / 6,
        "right_party_30d": 3, "right_party_rate_30d": 0.5, "right_party_90d": 4,
        "refusals_90d": 2, "refusals_with_reason_90d": 1, "hardship_contacts_90d": 1,
        "days_since_right_party": 1, "days_unreached": 1,
        "attempts_since_payment": 3, "right_party_since_payment": 1,  # after 01-08 10:00
        "promises_made_180d": 5, "promises_kept_180d": 1, "promises_broken_180d": 1,
        "promises_partly_kept_180d": 1, "promises_open": 2,
        "dispute_hold": True, "complaint_hold": False,
        "debtor_points_valid": 2, "third_party_points": 1,
        "co_debts": 1, "age": 36, "region": "11",
    },
    2: {
        "creditor_id": 2, "debtor_id": 10, "as_of": D,
        "dpd": 51, "bucket": "M2", "bucket_rank": 2, "max_dpd_180d": 51,
        "days_in_bucket": 20,  # last recorded M1: entered M2 at DPD 31, 20 days ago
        "roll_backs_180d": 0, "roll_forwards_180d": 0,
        "owed_fen": 50_000, "original_fen": 100_000, "owed_share": 0.5, "accounts": 1,
        "product": "personal_loan",
        "payments_count": 2, "payments_90d": 2, "paid_fen_90d": 50_000, "paid_ratio": 0.5,
        "partial_payments_90d": 2,  # neither paid what was owed then (1,000.00; 900.00)
        "reversals": 0, "days_since_payment": 0,
        "attempts_30d": 0, "connected_30d": 0, "connect_rate_30d": None,
        "right_party_30d": 0, "right_party_rate_30d": None, "right_party_90d": 0,
        "refusals_90d": 0, "refusals_with_reason_90d": 0, "hardship_contacts_90d": 0,
        "days_since_right_party": None, "days_unreached": 40,
        "attempts_since_payment": 0, "right_party_since_payment": 0,
        "promises_made_180d": 0, "promises_kept_180d": 0, "promises_broken_180d": 0,
        "promises_partly_kept_180d": 0, "promises_open": 0,
        "dispute_hold": False, "complaint_hold": True,
        "debtor_points_valid": 2, "third_party_points": 1,
        "co_debts": 1, "age": 36, "region": "11",
    },
    3: {
        "creditor_id": 1, "debtor_id": 11, "as_of": D,
        "dpd": 0, "bucket": "M0", "bucket_rank": 0, "max_dpd_180d": 0, "days_in_bucket": 0,
        "roll_backs_180d": 0, "roll_forwards_180d": 0,
        "owed_fen": 10_000, "original_fen": 10_000, "owed_share": 1.0, "accounts": 1,
        "product": "cash_loan",
        "payments_count": 0, "payments_90d": 0, "paid_fen_90d": 0, "paid_ratio": 0.0,
        "partial_payments_90d": 0, "reversals": 0, "days_since_payment": None,
        "attempts_30d": 0, "connected_30d": 0, "connect_rate_30d": None,
        "right_party_30d": 0, "right_party_rate_30d": None, "right_party_90d": 0,
        "refusals_90d": 0, "refusals_with_reason_90d": 0, "hardship_contacts_90d": 0,
        "days_since_right_party": None, "days_unreached": 70,
        "attempts_since_payment": 0, "right_party_since_payment": 0,
        "promises_made_180d": 0, "promises_kept_180d": 0, "promises_broken_180d": 0,
        "promises_partly_kept_180d": 0, "promises_open": 0,
        "dispute_hold": False, "complaint_hold": False,
        "debtor_points_valid": 0, "third_party_points": 0,
        "co_debts": 0, "age": 41, "region": "11",  # born 1985-01-11: 42 tomorrow
    },
}  # fmt: skip


def test_every_feature_matches_the_hand_computed_example() -> None:
    built = build_features(frames(), D, config=shipped_config())
    assert built.get_column("case_id").to_list() == [1, 2, 3]  # 4 settled, 5 opened after D
    rows = {row["case_id"]: row for row in built.iter_rows(named=True)}
    for case_id, expected in EXPECTED.items():
        got = rows[case_id]
        for code, value in expected.items():
            if isinstance(value, float):
                assert got[code] == pytest.approx(value), (case_id, code)
            else:
                assert got[code] == value, (case_id, code, got[code])


def test_the_frame_has_the_contract_columns_and_types() -> None:
    built = build_features(frames(), D)
    assert built.schema == pl.Schema(OUTPUT_SCHEMA)
    assert tuple(built.columns) == KEY_COLUMNS + tuple(f.code for f in FEATURES)


def test_every_catalogue_feature_is_named_and_defined_once() -> None:
    codes = [f.code for f in FEATURES]
    assert len(codes) == len(set(codes)) == 44
    for f in FEATURES:
        assert f.zh and f.en and f.description and f.kind in ("numeric", "categorical", "flag")
    assert feature("dpd").zh == "逾期天数"
    # the example above names every feature of the catalogue
    assert set(EXPECTED[1]) - {"creditor_id", "debtor_id", "as_of"} == set(codes)


def test_the_documentation_names_every_feature_in_zh_and_en() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    for f in FEATURES:
        assert f"`{f.code}`" in doc and f.zh in doc and f.en in doc, f.code


def test_no_frames_no_rows() -> None:
    built = build_features(FeatureFrames.of(), D)
    assert built.height == 0
    assert built.schema == pl.Schema(OUTPUT_SCHEMA)


def test_hardship_keywords_come_from_the_config() -> None:
    base = frames()
    without = build_features(base, D, config=FeatureConfig(hardship_keywords=("破产",)))
    assert without.filter(pl.col("case_id") == 1).item(0, "hardship_contacts_90d") == 0
    assert "失业" in load_feature_config().hardship_keywords


def test_a_custom_bucket_scheme_is_used_for_bucket_and_rank() -> None:
    from cuishou.accounts.rules import Bucket, BucketScheme
    from cuishou.engine.config import CycleConfig

    scheme = BucketScheme((Bucket("C", 0, 0), Bucket("X", 1, 59), Bucket("Y", 60, None)))
    built = build_features(
        frames(), D, config=FeatureConfig(cycle=CycleConfig(buckets=scheme, alert_bucket="Y"))
    )
    got = dict(zip(built["case_id"].to_list(), built["bucket"].to_list(), strict=True))
    assert got == {1: "X", 2: "X", 3: "C"}
    assert bucket_of(41) == "M2"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_birth_date_twin_agrees_with_the_scalar(born: date) -> None:
    number = valid_id_number(serial=7, born=born)
    frame = pl.DataFrame({"n": [number]})
    assert frame.select(birth_date_expr(pl.col("n"))).item() == birth_date_of(number)


# --------------------------------------------------------------------- on the store

STORE_A = {
    # lump sum overdue since 09-01, 100.00 of 10,000.00 paid (PAY2 reversed on 11-12)
    "dpd": 80, "bucket": "M3", "bucket_rank": 3, "max_dpd_180d": 80, "days_in_bucket": 19,
    "roll_backs_180d": 0, "roll_forwards_180d": 0,
    "owed_fen": 990_000, "original_fen": 1_000_000, "owed_share": 0.99, "accounts": 1,
    "product": "consumer_loan",
    "payments_count": 1, "payments_90d": 1, "paid_fen_90d": 10_000, "paid_ratio": 0.01,
    "partial_payments_90d": 1, "reversals": 1, "days_since_payment": 15,
    # 11-06 RPC, 11-09 refused (note: 失业), 11-10 空号, 11-10 promise, 11-16 promise
    "attempts_30d": 5, "connected_30d": 4, "connect_rate_30d": 0.8, "right_party_30d": 4,
    "right_party_rate_30d": 0.8, "right_party_90d": 4, "refusals_90d": 1,
    "refusals_with_reason_90d": 1, "hardship_contacts_90d": 1, "days_since_right_party": 4,
    "days_unreached": 4, "attempts_since_payment": 5, "right_party_since_payment": 4,
    # 11-10 promise broken at the 11-19 cycle; 11-16 promise open
    "promises_made_180d": 2, "promises_kept_180d": 0, "promises_broken_180d": 1,
    "promises_partly_kept_180d": 0, "promises_open": 1,
    "dispute_hold": True, "complaint_hold": False,
    "debtor_points_valid": 1, "third_party_points": 1,  # M2 marked invalid on 11-10
    "co_debts": 1, "age": 36, "region": "11",
}  # fmt: skip
STORE_B = {
    # overdue since 10-15; M1 → M2 recorded by the 11-19 cycle; opened 11-01, never reached
    "dpd": 36, "bucket": "M2", "max_dpd_180d": 36, "days_in_bucket": 1, "roll_forwards_180d": 1,
    "owed_fen": 200_000, "product": "credit_card", "payments_count": 0,
    "days_since_payment": None, "attempts_30d": 0, "connect_rate_30d": None,
    "days_since_right_party": None, "days_unreached": 19, "dispute_hold": True,
    "debtor_points_valid": 1, "co_debts": 1,
}  # fmt: skip


def test_features_at_reads_the_store_as_of_d(engine: Engine) -> None:
    story = live_until_d(engine)
    built = features_at(engine, STORY_D)
    rows = {row["case_id"]: row for row in built.iter_rows(named=True)}
    assert set(rows) == {story.case_a, story.case_b}
    for case_id, expected in ((story.case_a, STORE_A), (story.case_b, STORE_B)):
        for code, value in expected.items():
            assert rows[case_id][code] == (
                pytest.approx(value) if isinstance(value, float) else value
            ), (case_id, code)
