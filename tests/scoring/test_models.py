"""Models: the scorecard (optbinning fit, Polars apply) and the GBM (LightGBM), on synthetic
case frames with a known signal."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.metrics import auc
from cuishou.scoring.models import (
    MIN_REASON_POINTS,
    REASONS,
    FittedModel,
    GbmModel,
    GbmOptions,
    ModelFeature,
    PointsScale,
    ScorecardModel,
    ScorecardOptions,
    StepFunction,
    _additive,
    _apply_steps,
    _optbinning_columns,
    _reasons,
    fit_model,
    load_model,
    split_out_of_time,
)

# optbinning's own pandas deprecations are not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::Warning:optbinning")

FEATURES = (
    ModelFeature("dpd", "numeric"),
    ModelFeature("paid_ratio", "numeric"),
    ModelFeature("days_since_payment", "numeric"),
    ModelFeature("right_party_rate_30d", "numeric"),
    ModelFeature("product", "categorical"),
    ModelFeature("dispute_hold", "flag"),
    ModelFeature("noise", "numeric"),
)


def cases(n: int, *, seed: int, start: date = date(2026, 6, 1), days: int = 1) -> pl.DataFrame:
    """Synthetic cases whose chance to pay in 30 days is known (``true_p``): it falls with
    DPD, rises with what was paid and with right-party contact, is lower for a debtor who
    never paid (``days_since_payment`` null) and under a dispute hold, and depends on the
    product; ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    dpd = rng.integers(1, 240, n)
    paid_ratio = rng.beta(1.2, 3.0, n)
    never_paid = rng.random(n) < 0.3
    since = rng.integers(0, 365, n)
    rpc = np.where(rng.random(n) < 0.2, np.nan, rng.beta(2, 5, n))
    product = rng.choice(["card", "cash", "auto"], n, p=[0.5, 0.3, 0.2])
    dispute = rng.random(n) < 0.1
    logit = (
        -0.012 * (dpd - 90)
        + 2.5 * (paid_ratio - 0.3)
        + np.where(never_paid, -0.9, 0.5 - 0.004 * since)
        + np.where(np.isnan(rpc), -0.3, 3.0 * (np.nan_to_num(rpc) - 0.3))
        + np.select([product == "card", product == "cash"], [0.4, -0.4], 0.0)
        - 1.2 * dispute
        - 0.8
    )
    true_p = 1 / (1 + np.exp(-logit))
    return pl.DataFrame(
        {
            "case_id": np.arange(n, dtype=np.int64) + seed * 1_000_000,
            "as_of": [start + timedelta(days=int(d)) for d in rng.integers(0, days, n)],
            "dpd": dpd.astype(np.int64),
            "paid_ratio": paid_ratio,
            "days_since_payment": pl.Series(since, dtype=pl.Int64).zip_with(
                pl.Series(~never_paid), pl.Series([None] * n, dtype=pl.Int64)
            ),
            "right_party_rate_30d": pl.Series(rpc, nan_to_null=True),
            "product": product,
            "dispute_hold": dispute,
            "noise": rng.normal(size=n),
            "true_p": true_p,
            "pay_30d": rng.random(n) < true_p,
        }
    )


@pytest.fixture(scope="module")
def train() -> pl.DataFrame:
    return cases(8_000, seed=1)


@pytest.fixture(scope="module")
def test_frame() -> pl.DataFrame:
    frame = cases(3_000, seed=2)
    # a product the training never saw, on a few rows
    return frame.with_columns(
        pl.when(pl.col("case_id") % 100 == 0)
        .then(pl.lit("mortgage"))
        .otherwise(pl.col("product"))
        .alias("product")
    )


@pytest.fixture(scope="module")
def scorecard(train: pl.DataFrame) -> FittedModel:
    return fit_model("scorecard", train, "pay_30d", FEATURES, seed=3)


@pytest.fixture(scope="module")
def gbm(train: pl.DataFrame) -> FittedModel:
    return fit_model("gbm", train, "pay_30d", FEATURES, seed=3)


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_a_known_signal_is_found_close_to_the_true_propensity(
    kind: str, scorecard: FittedModel, gbm: FittedModel, test_frame: pl.DataFrame
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    predicted = model.predict(test_frame)
    y = test_frame["pay_30d"].to_numpy()
    ceiling = auc(y, test_frame["true_p"].to_numpy())
    reached = auc(y, predicted["probability"].to_numpy())
    assert ceiling > 0.75
    assert reached > ceiling - 0.03, (reached, ceiling)
    # higher score = more likely to pay, on the one points scale
    assert predicted["score"].to_numpy() == pytest.approx(
        PointsScale().points(np.log(predicted["probability"] / (1 - predicted["probability"])))
    )
    assert predicted.columns == ["case_id", "probability", "score", "reasons"]
    assert predicted["score"].null_count() == 0


def test_the_points_scale_is_600_at_50_to_1_and_doubles_the_odds_every_20_points() -> None:
    scale = PointsScale()
    assert scale.factor == pytest.approx(20 / math.log(2))
    assert scale.points(np.log(np.array([50.0, 100.0, 25.0]))) == pytest.approx([600, 620, 580])


def optbinnings_own_card(
    train: pl.DataFrame, seed: int, options: ScorecardOptions
) -> tuple[Any, pd.DataFrame]:
    """optbinning's own ``Scorecard(BinningProcess, LogisticRegression)`` with the options,
    and how it reads a frame."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    codes = [f.code for f in FEATURES]
    process = BinningProcess(
        variable_names=codes,
        categorical_variables=[f.code for f in FEATURES if f.kind == "categorical"],
        max_n_prebins=options.max_n_prebins,
        min_prebin_size=options.min_prebin_size,
        binning_fit_params={
            f.code: {"monotonic_trend": options.monotonic_trend}
            for f in FEATURES
            if f.kind != "categorical"
        },
        selection_criteria=None if options.min_iv is None else {"iv": {"min": options.min_iv}},
    )
    card = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(C=options.c, max_iter=1000, random_state=seed),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20.0, "odds": 50.0, "scorecard_points": 600.0},
    )
    data = pd.DataFrame(_optbinning_columns(train, FEATURES))
    bad = (~train["pay_30d"].to_numpy()).astype(np.int64)
    return card.fit(data, bad, metric_missing="empirical"), data


@pytest.mark.parametrize(
    "options",
    [
        ScorecardOptions(),
        ScorecardOptions(min_iv=0.02),
        ScorecardOptions(monotonic_trend="auto", min_prebin_size=0.1, c=0.1),
    ],
    ids=["defaults", "min_iv", "trend_auto_c"],
)
def test_the_polars_scorecard_gives_optbinnings_own_scores(
    train: pl.DataFrame, test_frame: pl.DataFrame, options: ScorecardOptions
) -> None:
    # given optbinning's own fitted card on the same rows, seed and options
    card, _ = optbinnings_own_card(train, 3, options)
    ours = fit_model("scorecard", train, "pay_30d", FEATURES, seed=3, scorecard=options)
    # it keeps the same features (with an IV floor, the noise is left out)
    kept = list(card.binning_process_.get_support(names=True))
    assert [f.code for f in ours.features] == kept
    assert ("noise" in kept) == (options.min_iv is None)
    # with missing values in numeric features and an unseen product in the test frame
    assert test_frame["right_party_rate_30d"].null_count() > 0
    assert (test_frame["product"] == "mortgage").sum() > 0
    data = pd.DataFrame(_optbinning_columns(test_frame, FEATURES))
    predicted = ours.predict(test_frame)
    np.testing.assert_allclose(predicted["score"].to_numpy(), card.score(data), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        predicted["probability"].to_numpy(), card.predict_proba(data)[:, 0], rtol=0, atol=1e-9
    )


def test_the_additive_gbm_gives_lightgbms_own_contributions(
    test_frame: pl.DataFrame, gbm: FittedModel
) -> None:
    assert isinstance(gbm, GbmModel) and gbm.additive
    contrib = gbm.pred_contrib(test_frame)  # LightGBM's TreeSHAP, row by row
    ours = _apply_steps(test_frame, gbm.contributions)
    np.testing.assert_allclose(ours, contrib[:, :-1], rtol=0, atol=1e-9)
    assert gbm.bias == pytest.approx(contrib[0, -1])
    raw = gbm.booster.predict(
        test_frame.select(f.code for f in FEATURES)
        .with_columns(
            pl.col("product").replace_strict(
                gbm.categories["product"],
                list(range(len(gbm.categories["product"]))),
                default=None,
                return_dtype=pl.Float64,
            ),
            pl.col("dispute_hold").cast(pl.Float64),
        )
        .to_numpy()
        .astype(float),
        raw_score=True,
    )
    scores = gbm.predict(test_frame)["score"].to_numpy()
    np.testing.assert_allclose(scores, PointsScale().points(raw), rtol=0, atol=1e-6)


def test_a_gbm_with_interactions_takes_its_reasons_from_pred_contrib(
    train: pl.DataFrame, test_frame: pl.DataFrame
) -> None:
    model = fit_model(
        "gbm",
        train,
        "pay_30d",
        FEATURES,
        seed=3,
        gbm=GbmOptions(additive=False, num_boost_round=40),
    )
    assert isinstance(model, GbmModel) and not model.additive
    sample = test_frame.head(300)
    contrib = model.pred_contrib(sample)[:, :-1]
    predicted = model.predict(sample)
    codes = [f.code for f in FEATURES]
    for row, reasons in zip(contrib, predicted["reasons"].to_list(), strict=True):
        order = np.argsort(row, kind="stable")[:REASONS]
        expected = [codes[j] for j in order if -row[j] * PointsScale().factor >= MIN_REASON_POINTS]
        assert reasons == expected
    assert load_model(model.to_bytes()).predict(sample).equals(predicted)


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_reasons_are_the_features_that_pulled_the_score_down_most(
    kind: str, scorecard: FittedModel, gbm: FittedModel, test_frame: pl.DataFrame
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    steps = model.variables if isinstance(model, ScorecardModel) else model.contributions  # type: ignore[attr-defined]
    values = _apply_steps(test_frame, steps)
    best = np.array([s.best for s in steps])
    gaps = best - values if kind == "scorecard" else -values * PointsScale().factor
    codes = [f.code for f in FEATURES]
    reasons = model.predict(test_frame)["reasons"].to_list()
    assert any(len(r) == REASONS for r in reasons)
    for gap, given_reasons in zip(gaps, reasons, strict=True):
        order = sorted(range(len(codes)), key=lambda j: (-gap[j], j))
        assert given_reasons == [codes[j] for j in order[:REASONS] if gap[j] >= MIN_REASON_POINTS]


def test_a_case_at_the_best_bin_of_every_feature_has_no_reason(scorecard: FittedModel) -> None:
    assert isinstance(scorecard, ScorecardModel)
    best_case: dict[str, object] = {"case_id": 1}
    for v in scorecard.variables:
        j = int(np.argmax(v.values))
        value: object
        if v.missing > v.values[j]:
            value = None
        elif v.kind == "categorical":
            value = v.groups[j][0]
        else:  # bins are left-closed: the lower edge of bin j is inside it
            value = v.splits[j - 1] if j > 0 else (v.splits[0] - 1 if v.splits else 0.0)
            if v.kind == "flag":
                value = float(value) >= 0.5
        best_case[v.code] = value
    frame = pl.DataFrame([best_case])
    assert scorecard.predict(frame)["reasons"].to_list() == [[]]
    worse = frame.with_columns(pl.lit(239).alias("dpd"))
    assert scorecard.predict(worse)["reasons"].to_list() == [["dpd"]]


@pytest.fixture(scope="module")
def stability_sample(test_frame: pl.DataFrame) -> pl.DataFrame:
    return test_frame.head(600)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.001, 0.01))
@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_reason_codes_are_stable_under_small_feature_noise(
    kind: str,
    scorecard: FittedModel,
    gbm: FittedModel,
    stability_sample: pl.DataFrame,
    seed: int,
    scale: float,
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    rng = np.random.default_rng(seed)
    # noise of at most 1 % of each continuous feature's spread
    noisy = stability_sample.with_columns(
        (pl.col(c) + pl.Series(rng.normal(0, scale * stability_sample[c].std(), 600)))  # type: ignore[operator]
        .alias(c)
        for c in ("paid_ratio", "right_party_rate_30d", "noise")
    )
    before = model.predict(stability_sample)["reasons"].to_list()
    after = model.predict(noisy)["reasons"].to_list()
    steps = model.variables if isinstance(model, ScorecardModel) else model.contributions  # type: ignore[attr-defined]
    same_bins = (_apply_steps(stability_sample, steps) == _apply_steps(noisy, steps)).all(axis=1)
    # a case whose features stayed in their bins keeps exactly its reasons …
    assert all(b == a for b, a, s in zip(before, after, same_bins, strict=True) if s)
    # … and nearly every case keeps its first reason, most keep all three in order (the
    # GBM's step functions are finer than the card's bins, so its lists move a little more)
    kept_first = sum(b[:1] == a[:1] for b, a in zip(before, after, strict=True))
    kept_all = sum(b == a for b, a in zip(before, after, strict=True))
    assert kept_first >= 0.95 * len(before)
    assert kept_all >= (0.95 if kind == "scorecard" else 0.85) * len(before)


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_a_model_round_trips_through_bytes_with_identical_predictions(
    kind: str, scorecard: FittedModel, gbm: FittedModel, test_frame: pl.DataFrame
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    data = model.to_bytes()
    assert data.startswith(b"{")  # JSON, not a pickle
    loaded = load_model(data)
    assert type(loaded) is type(model)
    assert loaded.sha256 == model.sha256 and len(model.sha256) == 64
    assert loaded.to_bytes() == data
    assert loaded.predict(test_frame).equals(model.predict(test_frame))
    assert loaded.drift(test_frame) == model.drift(test_frame)


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_the_same_rows_and_seed_give_the_same_model(
    kind: str, scorecard: FittedModel, gbm: FittedModel, train: pl.DataFrame
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    again = fit_model(kind, train, "pay_30d", FEATURES, seed=3)  # type: ignore[arg-type]
    assert again.sha256 == model.sha256


def test_nulls_and_unseen_categories_get_the_missing_bin(
    scorecard: FittedModel, gbm: FittedModel
) -> None:
    row = {
        "case_id": [7, 8],
        "dpd": [None, 30],
        "paid_ratio": [None, 0.2],
        "days_since_payment": [None, 10],
        "right_party_rate_30d": [None, float("nan")],
        "product": [None, "never-seen"],
        "dispute_hold": [None, False],
        "noise": [None, 0.0],
    }
    frame = pl.DataFrame(row, schema_overrides={"dpd": pl.Int64, "days_since_payment": pl.Int64})
    for model in (scorecard, gbm):
        predicted = model.predict(frame)
        assert predicted["score"].null_count() == 0
        assert all(0 < p < 1 for p in predicted["probability"])
    assert isinstance(scorecard, ScorecardModel)
    product = next(v for v in scorecard.variables if v.code == "product")
    points = _apply_steps(frame, [product])[:, 0]
    assert list(points) == [product.missing, product.missing]


def test_an_adverse_target_scores_higher_when_less_likely(train: pl.DataFrame) -> None:
    frame = train.with_columns((~pl.col("pay_30d")).alias("roll_30d"))
    model = fit_model("scorecard", frame, "roll_30d", FEATURES, seed=3)
    assert model.adverse
    predicted = model.predict(frame)
    # the probability is of rolling: it falls as the score rises
    ordered = predicted.sort("score")["probability"].to_numpy()
    assert np.all(np.diff(ordered) <= 1e-12)
    assert auc(frame["roll_30d"].to_numpy(), predicted["probability"].to_numpy()) > 0.7


def test_the_out_of_time_split_keeps_training_outcomes_before_validation() -> None:
    frame = cases(400, seed=5, start=date(2026, 1, 1), days=120)
    train, validation = split_out_of_time(frame, validation_from=date(2026, 4, 1))
    assert validation["as_of"].min() == date(2026, 4, 1)  # type: ignore[comparison-overlap]
    # the last training row's 30-day outcome window ends before validation starts
    last = train["as_of"].max()
    assert isinstance(last, date) and last + timedelta(days=30) < date(2026, 4, 1)
    assert train.height + validation.height < frame.height  # the 30-day gap is left out
    with pytest.raises(InvalidInput, match="both need some"):
        split_out_of_time(frame, validation_from=date(2026, 1, 10))


def test_rows_without_a_known_outcome_are_left_out(train: pl.DataFrame) -> None:
    frame = train.with_columns(
        pl.when(pl.col("case_id") % 4 == 0).then(None).otherwise(pl.col("pay_30d")).alias("pay_30d")
    )
    model = fit_model("scorecard", frame, "pay_30d", FEATURES[:2])
    assert model.training_rows == frame["pay_30d"].drop_nulls().len()


def test_bad_input_gets_a_clear_error(train: pl.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="unknown model kind"):
        fit_model("forest", train, "pay_30d", FEATURES)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="no column"):
        fit_model("scorecard", train.drop("dpd"), "pay_30d", FEATURES)
    with pytest.raises(InvalidInput, match="both outcomes"):
        fit_model("gbm", train.with_columns(pl.lit(True).alias("pay_30d")), "pay_30d", FEATURES)
    with pytest.raises(InvalidInput, match="true/false"):
        fit_model("gbm", train.with_columns(pl.lit(0.5).alias("pay_30d")), "pay_30d", FEATURES)
    with pytest.raises(InvalidInput, match="kind"):
        ModelFeature("dpd", "ordinal")
    with pytest.raises(InvalidInput, match="not a model artefact"):
        load_model(b"\x80\x04not json")


def test_a_scorecard_whose_features_all_fall_below_the_iv_floor_is_refused(
    train: pl.DataFrame,
) -> None:
    # the noise feature alone carries no information (IV ≈ 0)
    with pytest.raises(InvalidInput, match="minimum information value"):
        fit_model(
            "scorecard",
            train,
            "pay_30d",
            [ModelFeature("noise", "numeric")],
            scorecard=ScorecardOptions(min_iv=0.02),
        )


_SPLITS = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=0, max_size=6, unique=True
).map(sorted)


@settings(max_examples=150, deadline=None)
@given(
    splits=_SPLITS,
    right_closed=st.booleans(),
    missing=st.floats(-50, 50),
    data=st.data(),
)
def test_a_step_function_gives_the_same_values_in_numpy_as_in_polars(
    splits: list[float], right_closed: bool, missing: float, data: st.DataObject
) -> None:
    # given a numeric step function and values on, between and beyond its splits, missing ones
    values = data.draw(
        st.lists(st.floats(-50, 50), min_size=len(splits) + 1, max_size=len(splits) + 1)
    )
    step = StepFunction(
        code="x", kind="numeric", splits=tuple(splits), groups=(), values=tuple(values),
        missing=missing, right_closed=right_closed,
    )  # fmt: skip
    special = st.sampled_from([None, math.nan, math.inf, -math.inf, *splits])
    column = data.draw(
        st.lists(st.one_of(special, st.floats(-2e6, 2e6, allow_nan=False)), max_size=30)
    )
    frame = pl.DataFrame({"x": column}, schema={"x": pl.Float64})
    # when it is applied both ways
    out = np.empty(frame.height)
    step.values_of(frame, out)
    # then every row gets the same value
    assert out.tolist() == frame.select(step.expr()).to_series().to_list()


def test_a_categorical_step_function_gives_the_same_values_in_numpy_as_in_polars() -> None:
    step = StepFunction(
        code="product", kind="categorical", splits=(), groups=(("card", "loan"), ("auto",)),
        values=(1.5, -2.0), missing=7.0,
    )  # fmt: skip
    frame = pl.DataFrame({"product": ["card", "auto", None, "unseen", "loan"]})
    out = np.empty(frame.height)
    step.values_of(frame, out)
    assert out.tolist() == [1.5, -2.0, 7.0, 7.0, 1.5]
    assert out.tolist() == frame.select(step.expr()).to_series().to_list()


@pytest.mark.parametrize("block", [1, 7, 64])
def test_reasons_do_not_depend_on_the_block_size(
    block: int, scorecard: FittedModel, test_frame: pl.DataFrame
) -> None:
    assert isinstance(scorecard, ScorecardModel)
    given_points = _apply_steps(test_frame, scorecard.variables).T
    best = np.array([s.best for s in scorecard.variables])
    codes = [f.code for f in scorecard.features]
    whole = _reasons(given_points, best, codes, block=test_frame.height)
    assert any(len(r) == REASONS for r in whole.to_list())
    assert _reasons(given_points, best, codes, block=block).equals(whole)


@settings(max_examples=150, deadline=None)
@given(
    splits=_SPLITS.map(lambda s: [round(x / 1e4, 1) for x in s]),
    right_closed=st.booleans(),
    dtype=st.sampled_from([pl.Int64, pl.Int32, pl.UInt8, pl.Boolean]),
    data=st.data(),
)
def test_an_integer_column_gives_the_same_bins_looked_up_as_searched(
    splits: list[float], right_closed: bool, dtype: pl.DataType, data: st.DataObject
) -> None:
    # given a step function and an integer (or flag) column, with nulls, on and around splits
    splits = sorted(set(splits))
    step = StepFunction(
        code="x", kind="numeric", splits=tuple(splits), groups=(),
        values=tuple(float(i) for i in range(len(splits) + 1)), missing=-1.0,
        right_closed=right_closed,
    )  # fmt: skip
    if dtype == pl.Boolean:
        cells = st.one_of(st.none(), st.booleans())
    elif dtype == pl.UInt8:
        cells = st.one_of(st.none(), st.integers(0, 255))
    else:  # near the splits, and far apart (a span too wide for a lookup table)
        near = st.sampled_from([int(s) + d for s in splits for d in (-1, 0, 1)] or [0])
        far = 2**40 if dtype == pl.Int64 else 2**30
        cells = st.one_of(st.none(), near, st.integers(-200, 200), st.integers(-far, far))
    column = data.draw(st.lists(cells, max_size=40))
    frame = pl.DataFrame({"x": column}, schema={"x": dtype})
    # when its values are found in NumPy (a lookup table for a narrow integer span)
    out = np.empty(frame.height)
    step.values_of(frame, out)
    # then they are the Polars expression's (a binary search on the values as floats)
    assert out.tolist() == frame.select(step.expr()).to_series().to_list()


@settings(max_examples=200, deadline=None)
@given(
    n_features=st.integers(1, 6),
    gbm=st.booleans(),
    data=st.data(),
)
def test_reasons_kept_feature_by_feature_are_the_reasons_of_the_whole_matrix(
    n_features: int, gbm: bool, data: st.DataObject
) -> None:
    # given additive step functions whose bins often tie (points from a few values, some of
    # them one point apart: the reason floor) and rows over every bin and missing values
    points = st.sampled_from([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.5, 4.5])
    steps, columns = [], {}
    for j in range(n_features):
        n_splits = data.draw(st.integers(0, 3))
        steps.append(
            StepFunction(
                code=f"f{j}", kind="numeric", splits=tuple(float(10 * k) for k in range(n_splits)),
                groups=(), values=tuple(data.draw(points) for _ in range(n_splits + 1)),
                missing=data.draw(points),
            )
        )  # fmt: skip
    n_rows = data.draw(st.integers(0, 25))
    for j in range(n_features):
        cells = st.one_of(st.none(), st.integers(-5, 35))
        columns[f"f{j}"] = data.draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
    frame = pl.DataFrame(columns, schema={f"f{j}": pl.Int64 for j in range(n_features)})
    factor = PointsScale().factor if gbm else None
    # when the model is applied feature by feature
    total, found = _additive(frame, steps, factor=factor, reasons=True)
    # then the sum is the features × rows matrix's, and the reasons those picked on it
    values = _apply_steps(frame, steps).T  # features × rows
    assert total.tolist() == values.sum(axis=0).tolist()
    given_points = values * factor if factor is not None else values
    best = np.zeros(n_features) if gbm else np.array([s.best for s in steps])
    assert found is not None
    assert found.to_list() == _reasons(given_points, best, [s.code for s in steps]).to_list()


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_reasons_as_json_are_the_lists_as_the_store_keeps_them(
    kind: str, scorecard: FittedModel, gbm: FittedModel, test_frame: pl.DataFrame
) -> None:
    model = scorecard if kind == "scorecard" else gbm
    # when the reasons are asked for as JSON text
    as_json = model.predict(test_frame, reasons="json")
    as_lists = model.predict(test_frame)
    # then each is its list as compact JSON, and nothing else differs
    expected = [json.dumps(r, separators=(",", ":")) for r in as_lists["reasons"].to_list()]
    assert as_json["reasons"].to_list() == expected
    assert any(len(r) == REASONS for r in as_lists["reasons"].to_list())
    assert as_json.drop("reasons").equals(as_lists.drop("reasons"))
