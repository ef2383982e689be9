"""Customer labels (客户画像): the default pack at its edges, facts, bad packs, changes, and
the scalar and Polars forms agreeing on every input (Hypothesis)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.labels import (
    CHANGE_SCHEMA,
    LABEL_SCHEMA,
    ColumnKind,
    GivenLabel,
    LabelPack,
    LabelPackError,
    facts_json,
    label_changes,
    label_frame,
    labels_of,
    load_label_pack,
    parse_label_pack,
)

# fmt: off
INTEGER_FEATURES = (
    "dpd", "bucket_rank", "max_dpd_180d", "days_in_bucket", "roll_backs_180d",
    "roll_forwards_180d", "owed_fen", "original_fen", "accounts", "payments_count", "payments_90d",
    "paid_fen_90d", "partial_payments_90d", "reversals", "days_since_payment", "attempts_30d",
    "connected_30d", "right_party_30d", "right_party_90d", "refusals_90d",
    "refusals_with_reason_90d", "hardship_contacts_90d", "days_since_right_party",
    "days_unreached", "attempts_since_payment", "right_party_since_payment", "promises_made_180d",
    "promises_kept_180d", "promises_broken_180d", "promises_partly_kept_180d", "promises_open",
    "debtor_points_valid", "third_party_points", "co_debts", "age",
)
# fmt: on
#: the feature frame of the scoring contract (docs/scoring.md): name → dtype
FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "as_of": pl.Date(),
    **{name: pl.Int64() for name in INTEGER_FEATURES},
    **{
        name: pl.Float64()
        for name in ("owed_share", "paid_ratio", "connect_rate_30d", "right_party_rate_30d")
    },
    "bucket": pl.String(),
    "product": pl.String(),
    "region": pl.String(),
    "dispute_hold": pl.Boolean(),
    "complaint_hold": pl.Boolean(),
}
KEYS = ("case_id", "creditor_id", "debtor_id", "as_of")


def kind_of(dtype: pl.DataType) -> ColumnKind:
    if dtype == pl.Boolean:
        return "flag"
    return "categorical" if dtype == pl.String else "numeric"


#: what the catalogue gives labels: each feature column and its kind
COLUMNS: dict[str, ColumnKind] = {
    name: kind_of(dtype) for name, dtype in FEATURE_SCHEMA.items() if name not in KEYS
}
PACK = load_label_pack(columns=COLUMNS)

#: a case nobody would label: reached now and then, nothing promised, refused or held
QUIET: dict[str, object] = {
    **{name: 0 for name, dtype in FEATURE_SCHEMA.items() if dtype == pl.Int64()},
    "case_id": 1,
    "dpd": 40,
    "bucket": "M2",
    "bucket_rank": 2,
    "owed_fen": 500_000,
    "original_fen": 800_000,
    "owed_share": 0.625,
    "paid_ratio": 0.375,
    "accounts": 1,
    "product": "card",
    "days_since_payment": None,  # never paid
    "connect_rate_30d": None,  # no attempts
    "right_party_rate_30d": None,
    "right_party_90d": 1,
    "days_since_right_party": 45,
    "days_unreached": 45,
    "debtor_points_valid": 2,
    "age": 35,
    "region": "11",
    "dispute_hold": False,
    "complaint_hold": False,
}


def case(**changes: object) -> dict[str, object]:
    """One case's features: the quiet case with ``changes``."""
    unknown = set(changes) - set(FEATURE_SCHEMA)
    assert not unknown, unknown
    row = {name: QUIET.get(name) for name in FEATURE_SCHEMA}
    return {**row, **changes}


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FEATURE_SCHEMA, orient="row")


def both_forms(row: Mapping[str, object], pack: LabelPack = PACK) -> list[GivenLabel]:
    """The scalar form's labels, after checking the Polars form gives the same."""
    scalar = labels_of(row, pack)
    bulk = label_frame(frame([dict(row)]), pack)
    assert [(r["code"], json.loads(r["facts"])) for r in bulk.iter_rows(named=True)] == [
        (label.code, label.facts) for label in scalar
    ]
    return scalar


def codes(row: Mapping[str, object]) -> list[str]:
    return [label.code for label in both_forms(row)]


# --- the default pack ----------------------------------------------------------------


def test_the_default_pack_names_the_five_labels() -> None:
    assert [(r.code, r.zh, r.en) for r in PACK.labels] == [
        ("hardship", "暂时困难型", "Temporary hardship"),
        ("dispute", "争议拒付型", "Disputes the debt"),
        ("evading", "有意逃避型", "Evading"),
        ("unreachable", "失联型", "Unreachable"),
        ("cooperative", "配合型", "Cooperative"),
    ]
    assert codes(case()) == []  # the quiet case carries none


COOPERATIVE = {"right_party_30d": 1, "promises_kept_180d": 1}


@pytest.mark.parametrize(
    ("label", "given", "not_given"),
    [
        # 暂时困难型: a hardship note, a promise partly kept, short payments twice
        ("hardship", {"hardship_contacts_90d": 1}, {"hardship_contacts_90d": 0}),
        ("hardship", {"promises_partly_kept_180d": 1}, {"promises_made_180d": 3}),
        ("hardship", {"partial_payments_90d": 2}, {"partial_payments_90d": 1}),
        # 争议拒付型: a dispute hold, or one refusal that gives a reason
        ("dispute", {"dispute_hold": True}, {"complaint_hold": True}),
        ("dispute", {"refusals_with_reason_90d": 1}, {"refusals_90d": 2}),
        # 有意逃避型: reached and refusing three times, breaking two promises, or silence
        ("evading", {"refusals_90d": 3}, {"refusals_90d": 2}),
        ("evading", {"refusals_90d": 3}, {"refusals_90d": 3, "right_party_90d": 0}),
        ("evading", {"promises_broken_180d": 2}, {"promises_broken_180d": 1}),
        (
            "evading",
            {"attempts_since_payment": 5, "days_since_payment": 14},
            {"attempts_since_payment": 4, "days_since_payment": 14},
        ),
        (
            "evading",
            {"attempts_since_payment": 5, "days_since_payment": 14},
            {"attempts_since_payment": 5, "days_since_payment": 13},
        ),
        (
            "evading",
            {"attempts_since_payment": 5, "days_since_payment": 14},
            {"attempts_since_payment": 5, "days_since_payment": 14, "right_party_since_payment": 1},
        ),
        # 失联型: no valid contact point of the debtor's own, or 30 days unreached despite tries
        ("unreachable", {"debtor_points_valid": 0}, {"debtor_points_valid": 1}),
        (
            "unreachable",
            {"days_unreached": 30, "attempts_30d": 5},
            {"days_unreached": 29, "attempts_30d": 5},
        ),
        (
            "unreachable",
            {"days_unreached": 30, "attempts_30d": 5},
            {"days_unreached": 300, "attempts_30d": 4},  # a hold stopped the calls: not lost
        ),
        # 配合型: reached this month, a promise kept, nothing broken, refused or held
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "right_party_30d": 0}),
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "promises_kept_180d": 0}),
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "promises_broken_180d": 1}),
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "refusals_90d": 1}),
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "dispute_hold": True}),
        ("cooperative", COOPERATIVE, {**COOPERATIVE, "complaint_hold": True}),
    ],
)
def test_each_label_is_given_at_its_threshold_and_not_below(
    label: str, given: dict[str, object], not_given: dict[str, object]
) -> None:
    assert label in codes(case(**given))
    assert label not in codes(case(**not_given))


def test_a_case_can_carry_several_labels_each_with_its_facts() -> None:
    # given a debtor who said they lost their job, refused with a reason, and was reached
    # but refused three times, whose own numbers are all invalid now
    row = case(
        hardship_contacts_90d=1,
        promises_made_180d=2,
        refusals_90d=3,
        refusals_with_reason_90d=1,
        debtor_points_valid=0,
        paid_fen_90d=30_000,
    )
    # when labelled
    labels = both_forms(row)
    # then four labels, in pack order, each with the values that made it true
    assert labels == [
        GivenLabel(
            "hardship",
            "暂时困难型",
            "Temporary hardship",
            {
                "hardship_contacts_90d": 1,
                "promises_made_180d": 2,
                "promises_partly_kept_180d": 0,
                "partial_payments_90d": 0,
                "paid_fen_90d": 30_000,
            },
        ),
        GivenLabel(
            "dispute",
            "争议拒付型",
            "Disputes the debt",
            {"dispute_hold": False, "refusals_with_reason_90d": 1, "refusals_90d": 3},
        ),
        GivenLabel(
            "evading",
            "有意逃避型",
            "Evading",
            {
                "right_party_90d": 1,
                "refusals_90d": 3,
                "promises_broken_180d": 0,
                "attempts_since_payment": 0,
                "right_party_since_payment": 0,
                "days_since_payment": None,
            },
        ),
        GivenLabel(
            "unreachable",
            "失联型",
            "Unreachable",
            {
                "debtor_points_valid": 0,
                "days_unreached": 45,
                "attempts_30d": 0,
                "days_since_right_party": 45,
            },
        ),
    ]


def test_facts_are_json_text_a_store_holds() -> None:
    rows = [case(case_id=7, hardship_contacts_90d=2), case(case_id=3, dispute_hold=True)]
    out = label_frame(frame(rows), PACK)
    assert out.schema == LABEL_SCHEMA
    assert out.rows() == [
        (3, "dispute", '{"dispute_hold":true,"refusals_with_reason_90d":0,"refusals_90d":0}'),
        (
            7,
            "hardship",
            '{"hardship_contacts_90d":2,"promises_made_180d":0,"promises_partly_kept_180d":0,'
            '"partial_payments_90d":0,"paid_fen_90d":0}',
        ),
    ]
    assert facts_json(labels_of(rows[1], PACK)[0].facts) == out["facts"][0]


# --- missing facts --------------------------------------------------------------------

NULLS = parse_label_pack(
    {
        "id": "nulls",
        "version": "1",
        "labels": [
            {"code": "not_m2", "zh": "非M2", "en": "Not M2", "description": "d",
             "when": 'bucket != "M2"'},
            {"code": "never_paid", "zh": "从未还款", "en": "Never paid", "description": "d",
             "when": "days_since_payment is null"},
            {"code": "paid", "zh": "还过款", "en": "Paid", "description": "d",
             "when": "days_since_payment is not null"},
            {"code": "low_rate", "zh": "接通率低", "en": "Low connect rate", "description": "d",
             "when": {"any": ["connect_rate_30d < 0.2", "connect_rate_30d is null"]}},
        ],
    },
    source="nulls",
    columns=COLUMNS,
)  # fmt: skip


def test_a_missing_fact_makes_a_comparison_false_and_only_is_null_sees_it() -> None:
    never = case(bucket=None, days_since_payment=None, connect_rate_30d=None)
    assert [g.code for g in both_forms(never, NULLS)] == ["never_paid", "low_rate"]
    paid = case(bucket="M3", days_since_payment=3, connect_rate_30d=0.5)
    assert [g.code for g in both_forms(paid, NULLS)] == ["not_m2", "paid"]
    # NaN and ±inf are missing facts too, recorded as null
    for odd in (math.nan, math.inf, -math.inf):
        assert both_forms(case(connect_rate_30d=odd), NULLS)[-1].facts == {"connect_rate_30d": None}
    # never paid: "payment then silence" cannot hold, however often the case was tried
    assert "evading" not in codes(case(attempts_since_payment=9, days_since_payment=None))


def test_features_of_the_wrong_kind_or_missing_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="the case's features have no column refusals_90d"):
        labels_of({k: v for k, v in case().items() if k != "refusals_90d"}, PACK)
    with pytest.raises(InvalidInput, match=r"feature dispute_hold should be flag, not str"):
        labels_of(case(dispute_hold="yes"), PACK)
    with pytest.raises(InvalidInput, match="the feature frame has no column dispute_hold"):
        label_frame(frame([case()]).drop("dispute_hold"), PACK)
    wrong = frame([case()]).with_columns(pl.col("refusals_90d").cast(pl.String))
    with pytest.raises(InvalidInput, match="feature refusals_90d should be numeric, not String"):
        label_frame(wrong, PACK)


# --- bad packs ------------------------------------------------------------------------


def shipped_raw() -> dict[str, Any]:
    raw = yaml.safe_load(Path("src/cuishou/scoring/labels.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def write(tmp_path: Path, raw: Any) -> Path:
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def when_of(raw: dict[str, Any], code: str) -> dict[str, Any]:
    (rule,) = [r for r in raw["labels"] if r["code"] == code]
    assert isinstance(rule, dict)
    return rule


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: when_of(r, "hardship")["when"]["any"].__setitem__(
                2, "partial_payment_90d >= 2"
            ),
            "labels[hardship].when: any[2]: 'partial_payment_90d >= 2': unknown column "
            "partial_payment_90d (did you mean partial_payments_90d?)",
        ),
        (
            lambda r: when_of(r, "evading")["when"]["any"][0]["all"].__setitem__(
                1, "refusals_90d => 3"
            ),
            "labels[evading].when: any[0].all[1]: 'refusals_90d => 3': expected `column OP "
            "value` with OP one of < <= > >= == !=",
        ),
        (
            lambda r: when_of(r, "dispute")["when"]["any"].__setitem__(0, "dispute_hold == 1"),
            "labels[dispute].when: any[0]: 'dispute_hold == 1': dispute_hold is a flag: "
            "compare it with true or false",
        ),
        (
            lambda r: when_of(r, "cooperative")["when"]["all"].__setitem__(
                4, "dispute_hold < true"
            ),
            "labels[cooperative].when: all[4]: 'dispute_hold < true': dispute_hold is a flag: "
            "use == or != (not <)",
        ),
        (
            lambda r: when_of(r, "unreachable").update(when={"one_of": ["attempts_30d > 1"]}),
            "labels[unreachable].when: expected one key, all or any (got one_of)",
        ),
        (
            lambda r: when_of(r, "unreachable").update(when="days_unreached >= thirty"),
            "labels[unreachable].when: 'days_unreached >= thirty': cannot read the value 'thirty'",
        ),
        (
            lambda r: when_of(r, "unreachable").update(facts=["debtor_points", "attempts_30d"]),
            "labels[unreachable].facts: unknown column debtor_points (did you mean "
            "debtor_points_valid?)",
        ),
        (lambda r: when_of(r, "dispute").update(code="hardship"), "labels: the code(s) hardship"),
        (lambda r: when_of(r, "dispute").pop("description"), "labels[dispute].description"),
        (lambda r: when_of(r, "dispute").update(colour="red"), "labels[dispute].colour: Extra"),
        (lambda r: r.update(labels=[]), "labels: a pack gives at least one label"),
    ],
)
def test_a_bad_pack_is_refused_naming_the_file_the_label_and_the_field(
    tmp_path: Path, change: Any, message: str
) -> None:
    raw = shipped_raw()
    change(raw)
    with pytest.raises(LabelPackError) as caught:
        load_label_pack(write(tmp_path, raw), columns=COLUMNS)
    assert message in caught.value.message
    assert caught.value.message.startswith(f"label pack {tmp_path / 'labels.yaml'}: ")
    assert caught.value.code == "invalid_label_pack"


def test_a_pack_is_checked_against_the_columns_it_is_given(tmp_path: Path) -> None:
    # a feature renamed in the catalogue: the shipped pack no longer loads, and says why
    renamed = {
        **{k: v for k, v in COLUMNS.items() if k != "days_unreached"},
        "days_lost": "numeric",
    }
    with pytest.raises(LabelPackError) as caught:
        load_label_pack(columns=renamed)
    assert "labels[unreachable].when: any[1].all[0]: 'days_unreached >= 30': unknown column" in (
        caught.value.message
    )
    assert "labels[unreachable].facts: unknown column days_unreached" in caught.value.message
    with pytest.raises(LabelPackError, match="expected a mapping"):
        load_label_pack(write(tmp_path, ["a", "list"]), columns=COLUMNS)
    broken = tmp_path / "broken.yaml"
    broken.write_text("labels: [unclosed", encoding="utf-8")
    with pytest.raises(LabelPackError, match="cannot read label pack"):
        load_label_pack(broken, columns=COLUMNS)


# --- changes --------------------------------------------------------------------------


def test_label_changes_are_what_was_given_and_what_was_removed() -> None:
    # given case 1 labelled hardship and dispute yesterday, case 2 unreachable
    before = pl.DataFrame({"case_id": [1, 1, 2], "code": ["hardship", "dispute", "unreachable"]})
    # when today case 1 is hardship (with new facts) and evading, case 2 nothing, case 3 new
    after = label_frame(
        frame(
            [
                case(case_id=1, hardship_contacts_90d=2, refusals_90d=3),
                case(case_id=2),
                case(case_id=3, debtor_points_valid=0),
            ]
        ),
        PACK,
    )
    changes = label_changes(before, after)
    # then one change per label given or removed; a label kept is no change
    assert changes.schema == CHANGE_SCHEMA
    assert changes.select("case_id", "code", "change").rows() == [
        (1, "dispute", "removed"),
        (1, "evading", "given"),
        (2, "unreachable", "removed"),
        (3, "unreachable", "given"),
    ]
    given = dict(zip(changes["code"], changes["facts"], strict=True))
    assert json.loads(given["evading"])["refusals_90d"] == 3
    assert changes.filter(change="removed")["facts"].to_list() == [None, None]


def test_a_removed_label_keeps_the_facts_it_was_given_with() -> None:
    before = pl.DataFrame({"case_id": [5, 5], "code": ["dispute", "dispute"], "facts": ["{}", "x"]})
    after = pl.DataFrame(schema=LABEL_SCHEMA)
    assert label_changes(before, after).rows() == [(5, "dispute", "removed", "{}")]
    assert label_changes(after, after).is_empty()
    with pytest.raises(InvalidInput, match="before has no column code"):
        label_changes(before.drop("code"), after)


# --- one definition, two forms ---------------------------------------------------------

SMALL_INT = st.one_of(st.none(), st.integers(-1, 40), st.integers(-(2**40), 2**40))
FLOAT = st.one_of(
    st.none(), st.floats(-2, 2), st.sampled_from([0.0, 0.2, 0.5, math.nan, math.inf, -math.inf])
)


def value_of(dtype: pl.DataType) -> st.SearchStrategy[object]:
    if dtype == pl.Boolean:
        return st.one_of(st.none(), st.booleans())
    if dtype == pl.String:
        return st.one_of(st.none(), st.sampled_from(["M1", "M2", "11", "card", ""]))
    if dtype == pl.Float64:
        return FLOAT
    return SMALL_INT


@st.composite
def feature_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    size = draw(st.integers(0, 12))
    rows = []
    for index in range(size):
        row: dict[str, object] = {
            name: draw(value_of(dtype))
            for name, dtype in FEATURE_SCHEMA.items()
            if name not in KEYS
        }
        rows.append({"case_id": index, "creditor_id": 1, "debtor_id": index, "as_of": None, **row})
    return rows


def agree(rows: list[dict[str, object]], pack: LabelPack) -> None:
    scalar = [
        (row["case_id"], label.code, label.facts) for row in rows for label in labels_of(row, pack)
    ]
    bulk = [
        (c, code, json.loads(facts)) for c, code, facts in label_frame(frame(rows), pack).rows()
    ]
    assert bulk == scalar


@settings(max_examples=100, deadline=None)
@given(rows=feature_rows())
def test_the_default_pack_gives_the_same_labels_in_both_forms(
    rows: list[dict[str, object]],
) -> None:
    agree(rows, PACK)


#: columns the generated packs read: every kind, nullable or not
SOME = ["refusals_90d", "days_since_payment", "connect_rate_30d", "dispute_hold", "bucket"]


def comparison_text(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(SOME))
    if draw(st.integers(0, 5)) == 0:
        return f"{name} is {draw(st.sampled_from(['', 'not ']))}null"
    kind = COLUMNS[name]
    if kind == "numeric":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        value = draw(st.sampled_from(["0", "1", "-1", "3", "0.5", "2.0", "1e1"]))
    else:
        op = draw(st.sampled_from(["==", "!="]))
        choices = ["true", "false"] if kind == "flag" else ['"M1"', '"M2"', '""']
        value = draw(st.sampled_from(choices))
    return f"{name} {op} {value}"


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> object:
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return comparison_text(draw)
    parts = [draw(conditions(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    return {draw(st.sampled_from(["all", "any"])): parts}


@st.composite
def packs(draw: st.DrawFn) -> LabelPack:
    labels = [
        {
            "code": f"l{index}",
            "zh": "标签",
            "en": "Label",
            "description": "generated",
            "when": draw(conditions()),
            **({"facts": draw(st.lists(st.sampled_from(SOME), min_size=1, unique=True))}
               if draw(st.booleans()) else {}),
        }
        for index in range(draw(st.integers(1, 3)))
    ]  # fmt: skip
    return parse_label_pack(
        {"id": "generated", "version": "1", "labels": labels}, source="generated", columns=COLUMNS
    )


@settings(max_examples=150, deadline=None)
@given(pack=packs(), rows=feature_rows())
def test_any_pack_gives_the_same_labels_in_both_forms(
    pack: LabelPack, rows: list[dict[str, object]]
) -> None:
    agree(rows, pack)
