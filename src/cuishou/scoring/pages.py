"""Model pages (模型库 · 模型卡) for the strategy manager, managers and auditors, and the
scoring panel of the case page.

Thin: every figure comes from :mod:`cuishou.scoring.service` (the API's own card, with the
same ``model.read`` / ``model.promote`` checks); the handlers shape chart data from the
card's fields and pick a template. :func:`case_panel` turns the case file's scoring fields
into what ``_scoring.html`` shows: feature names in the page's language, values formatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from cuishou.kit.money import format_yuan_grouped
from cuishou.scoring import service
from cuishou.scoring.catalogue import feature
from cuishou.scoring.schemas import LabelOut, ModelCardOut, ModelVersionOut, ReasonOut
from cuishou.web.deps import NowDep, SessionDep
from cuishou.web.pages import FormDep, Page, PageDep, redirect, render

router = APIRouter(include_in_schema=False)

Version = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]

#: words of the feature codes shown as a share (connect_rate_30d 0.42 → 42.0%)
_SHARE_WORDS = frozenset({"rate", "ratio", "share"})


def _is_share(code: str) -> bool:
    return not _SHARE_WORDS.isdisjoint(code.split("_"))


# --------------------------------------------------------------------------- the case page


@dataclass(frozen=True, slots=True)
class FactView:
    code: str
    name: str
    other: str  # the name in the other language (a tooltip)
    value: str


@dataclass(frozen=True, slots=True)
class LabelView:
    code: str
    name: str
    other: str
    since: str
    facts: list[FactView]


@dataclass(frozen=True, slots=True)
class ReasonView:
    code: str
    name: str
    other: str


def _names(page: Page, zh: str, en: str) -> tuple[str, str]:
    return (zh, en) if page.language == "zh" else (en, zh)


def _fen_name(name: str) -> str:
    """A feature name without its "(分)"/"(fen)" unit: the value is shown in yuan."""
    return name.replace("(分)", "").replace(" (fen)", "").strip()


def fact_view(page: Page, code: str, value: Any) -> FactView:
    """One fact of a label, readable: the feature's name in the page's language and its
    value formatted (yuan for fen, a percent for rates, yes/no for flags, — for none)."""
    try:
        known = feature(code)
        zh, en, kind = known.zh, known.en, known.kind
    except KeyError:
        zh = en = code
        kind = "numeric"
    money = "fen" in code.split("_")  # owed_fen, paid_fen_90d …
    if money:
        zh, en = _fen_name(zh), _fen_name(en)
    name, other = _names(page, zh, en)
    if value is None:
        text = "—"
    elif kind == "flag" or isinstance(value, bool):
        text = page.t("common.yes") if value else page.t("common.no")
    elif money and isinstance(value, int | float):
        text = format_yuan_grouped(round(value))
    elif _is_share(code) and isinstance(value, int | float):
        text = f"{value * 100:.1f}%"
    elif isinstance(value, float):
        text = f"{value:.0f}" if value.is_integer() else f"{value:.2f}"
    else:
        text = str(value)
    return FactView(code, name, other, text)


def _reasons(page: Page, reasons: list[ReasonOut]) -> list[ReasonView]:
    return [ReasonView(r.code, *_names(page, r.zh, r.en)) for r in reasons]


def _labels(page: Page, labels: list[LabelOut]) -> list[LabelView]:
    return [
        LabelView(
            code=lb.code,
            name=_names(page, lb.zh, lb.en)[0],
            other=_names(page, lb.zh, lb.en)[1],
            since=lb.since.isoformat(),
            facts=[fact_view(page, code, value) for code, value in lb.facts.items()],
        )
        for lb in labels
    ]


def case_panel(page: Page, case: Any) -> dict[str, Any]:
    """What ``_scoring.html`` shows of a case file (``cases.schemas.CaseDetail``): the grade,
    the pay_30d score with its top reasons, every target's score, the labels and facts."""
    return {
        "grade": case.risk_grade,
        "score": case.score,
        "reasons": _reasons(page, case.reasons),
        "scores": [
            {
                "target": s.target,
                "version": s.version,
                "score": s.score,
                "probability": s.probability,
                "reasons": _reasons(page, s.reasons),
                "scored_on": s.scored_on,
            }
            for s in case.scores
        ],
        "labels": _labels(page, case.labels),
        "can_read_models": page.can("model.read"),
    }


# --------------------------------------------------------------------------- model pages


def _grouped(rows: list[ModelVersionOut]) -> list[tuple[str, list[ModelVersionOut]]]:
    """The versions of each target (in the service's target order), newest first."""
    return [
        (target, [r for r in rows if r.target == target])
        for target in service.TARGETS
        if any(r.target == target for r in rows)
    ]


@router.get("/models")
def models_page(page: PageDep, session: SessionDep) -> Response:
    """模型库: every version per target, its status and validation AUC/KS; the champion marked."""
    rows = [ModelVersionOut.model_validate(r) for r in service.list_versions(session, page.user)]
    return render(page, "models.html", groups=_grouped(rows), total=len(rows))


def _feature_name(page: Page, subject: str) -> str:
    if subject == "score":
        return page.t("model.score")
    try:
        known = feature(subject)
    except KeyError:
        return subject
    return known.zh if page.language == "zh" else known.en


def charts(page: Page, card: ModelCardOut) -> dict[str, Any]:
    """The card's charts, straight from its fields: lift and cumulative capture by decile,
    calibration by decile (mean predicted against observed), the daily PSI of the score
    and of each feature with the alert threshold."""
    deciles = card.deciles
    days = sorted({point.day for points in card.psi.values() for point in points})
    subjects = sorted(card.psi, key=lambda s: (s != "score", s))
    return {
        "lift": {
            "deciles": [d.decile for d in deciles],
            "lift": [round(d.lift, 4) for d in deciles],
            "capture": [round(d.cumulative_capture, 4) for d in deciles],
            "liftLabel": page.t("model.lift"),
            "captureLabel": page.t("model.cumulative_capture"),
            "decileLabel": page.t("model.decile"),
        },
        "calibration": {
            "deciles": [d.decile for d in deciles],
            "predicted": [round(d.mean_predicted, 4) for d in deciles],
            "observed": [round(d.observed_rate, 4) for d in deciles],
            "predictedLabel": page.t("model.mean_predicted"),
            "observedLabel": page.t("model.observed_rate"),
            "decileLabel": page.t("model.decile"),
        },
        "psi": {
            "days": [d.isoformat() for d in days],
            "series": [
                {
                    "id": subject,
                    "name": _feature_name(page, subject),
                    "data": [
                        next((round(p.psi, 4) for p in card.psi[subject] if p.day == d), None)
                        for d in days
                    ],
                }
                for subject in subjects
            ],
            "threshold": card.psi_threshold,
            "thresholdLabel": page.t("model.psi_threshold"),
        },
    }


@router.get("/models/{version}")
def model_card_page(version: Version, page: PageDep, session: SessionDep) -> Response:
    """模型卡: metrics, lift and calibration charts, the PSI trend, the features, the grade
    cut-offs and the version history; a Promote button for the strategy manager."""
    card = ModelCardOut.of(service.model_card(session, page.user, version))
    return render(
        page,
        "model_card.html",
        card=card,
        charts=charts(page, card),
        can_promote=page.can("model.promote") and card.status != "champion",
        promoted=page.request.query_params.get("promoted") == "1",
    )


@router.post("/models/{version}/promote")
def promote(
    version: Version, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """晋升为冠军: the strategy manager makes this version its target's champion (an event)."""
    service.promote(session, version, actor=page.user.username, now=now, principal=page.user)
    return redirect(f"/models/{version}?promoted=1")
