"""The feature catalogue (特征目录): every column of the feature frame, named in zh and en.

Models take their candidate features from :data:`FEATURES`; reason codes are these codes and
are shown to people in zh/en through :func:`feature`. ``docs/scoring.md`` holds the same
definitions; ``tests/scoring/test_features.py`` proves the catalogue names exactly the
columns :func:`cuishou.scoring.features.build_features` produces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["numeric", "categorical", "flag"]


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature: its column ``code``, its names, its kind and what it means."""

    code: str
    zh: str
    en: str
    kind: Kind
    description: str


#: the key and identity columns of the feature frame (not features)
KEY_COLUMNS: tuple[str, ...] = ("case_id", "creditor_id", "debtor_id", "as_of")

FEATURES: tuple[Feature, ...] = (
    # --- delinquency: DPD and bucket history (逾期与账龄)
    Feature("dpd", "逾期天数", "days past due", "numeric",
            "Days past due of the case at D: the largest DPD of its open accounts "
            "(accounts.rules aging, the ledger up to D)."),
    Feature("bucket", "账龄", "bucket", "categorical",
            "The case's bucket at D (the bucket of its DPD; M0…M7+ by default)."),
    Feature("bucket_rank", "账龄序号", "bucket rank", "numeric",
            "The bucket's rank (0 = M0, best; accounts.rules.bucket_rank_expr)."),
    Feature("max_dpd_180d", "近180天最大逾期天数", "max DPD in 180 days", "numeric",
            "The largest DPD recorded for the case's accounts in the 180 days to D: the DPD of "
            "bucket-history rows dated in the window (written when a bucket changes) and D's."),
    Feature("days_in_bucket", "当前账龄持续天数", "days in bucket", "numeric",
            "Days since the case entered its current bucket: the start of the latest run of "
            "bucket-history rows in that bucket; estimated from DPD when the bucket was not "
            "recorded yet (DPD − the bucket's first DPD)."),
    Feature("roll_backs_180d", "近180天好转次数", "roll-backs in 180 days", "numeric",
            "Bucket-history moves to a better bucket (roll_back or cure) in the 180 days to D."),
    Feature("roll_forwards_180d", "近180天恶化次数", "roll-forwards in 180 days", "numeric",
            "Bucket-history moves to a worse bucket (roll_forward) in the 180 days to D."),
    # --- balances and product (余额与产品)
    Feature("owed_fen", "欠款金额(分)", "amount owed (fen)", "numeric",
            "What the case owes at D by the ledger (entries effective on or before D)."),
    Feature("original_fen", "委案金额(分)", "amount at placement (fen)", "numeric",
            "What the case owed at placement: the sum of its accounts' placement entries."),
    Feature("owed_share", "剩余欠款占比", "share still owed", "numeric",
            "owed_fen / original_fen (null when original_fen is 0)."),
    Feature("accounts", "借据数", "accounts", "numeric",
            "The case's accounts placed by D."),
    Feature("product", "产品", "product", "categorical",
            "Product code of the case's largest account (by amount at placement)."),
    # --- payments (还款记录)
    Feature("payments_count", "还款笔数", "payments", "numeric",
            "Payments dated up to D and not reversed by D (a case payment split over accounts "
            "counts once)."),
    Feature("payments_90d", "近90天还款笔数", "payments in 90 days", "numeric",
            "Those payments dated in the 90 days to D."),
    Feature("paid_fen_90d", "近90天还款金额(分)", "paid in 90 days (fen)", "numeric",
            "Their sum in fen."),
    Feature("paid_ratio", "已还比例", "paid ratio", "numeric",
            "All those payments since placement / original_fen (null when original_fen is 0)."),
    Feature("partial_payments_90d", "近90天部分还款笔数", "partial payments in 90 days", "numeric",
            "Payments in the 90 days to D smaller than what was then due: the accounts' monthly "
            "instalments when they have some, otherwise what the case owed just before it."),
    Feature("reversals", "冲正笔数", "reversals", "numeric",
            "Payments reversed (冲正) up to D."),
    Feature("days_since_payment", "距上次还款天数", "days since payment", "numeric",
            "Days from the last payment to D (null: never paid)."),
    # --- contacts (催记)
    Feature("attempts_30d", "近30天联系次数", "attempts in 30 days", "numeric",
            "Contacts attempted in the 30 days to D, all channels (an attempt reached "
            "somebody or failed; a one-way message sent is none)."),
    Feature("connected_30d", "近30天接通次数", "connected in 30 days", "numeric",
            "Of them, somebody reached (contact.rules OUTCOMES connected)."),
    Feature("connect_rate_30d", "近30天接通率", "connect rate 30 days", "numeric",
            "connected_30d / attempts_30d (null when no attempt)."),
    Feature("right_party_30d", "近30天本人接通次数", "right-party contacts in 30 days", "numeric",
            "Of them, the debtor reached (contact.rules.party_expr == debtor)."),
    Feature("right_party_rate_30d", "近30天本人接通率", "right-party rate 30 days", "numeric",
            "right_party_30d / attempts_30d (null when no attempt)."),
    Feature("right_party_90d", "近90天本人接通次数", "right-party contacts in 90 days", "numeric",
            "The debtor reached in the 90 days to D."),
    Feature("refusals_90d", "近90天拒绝还款次数", "refusals in 90 days", "numeric",
            "Contacts with outcome refused (拒绝还款) in the 90 days to D."),
    Feature("refusals_with_reason_90d", "近90天有理由拒付次数", "refusals with a reason in 90 days",
            "numeric", "Of them, with a non-empty note (the reason given)."),
    Feature("hardship_contacts_90d", "近90天困难陈述次数", "hardship mentions in 90 days",
            "numeric", "Contacts in the 90 days to D whose note names hardship (the keywords of "
            "scoring.yaml: 失业, 生病, 住院, 困难, 降薪, 裁员 …)."),
    Feature("days_since_right_party", "距上次本人接通天数", "days since right-party contact",
            "numeric", "Days since the debtor was last reached (null: never)."),
    Feature("days_unreached", "未接触本人天数", "days unreached", "numeric",
            "Days since the debtor was last reached, or since the case opened if never."),
    Feature("attempts_since_payment", "上次还款后联系次数", "attempts since payment", "numeric",
            "Attempts after the last payment (0 when never paid; messages sent are none)."),
    Feature("right_party_since_payment", "上次还款后本人接通次数",
            "right-party contacts since payment", "numeric",
            "The debtor reached after the last payment (0 when never paid)."),
    # --- promises (承诺还款)
    Feature("promises_made_180d", "近180天承诺次数", "promises made in 180 days", "numeric",
            "Promises to pay taken in the 180 days to D."),
    Feature("promises_kept_180d", "近180天履约次数", "promises kept in 180 days", "numeric",
            "Of them, judged kept by D."),
    Feature("promises_broken_180d", "近180天跳票次数", "promises broken in 180 days", "numeric",
            "Of them, judged broken (跳票) by D."),
    Feature("promises_partly_kept_180d", "近180天部分履约次数",
            "promises partly kept in 180 days", "numeric",
            "Of them, judged partly kept (some money, less than promised) by D."),
    Feature("promises_open", "未到期承诺数", "open promises", "numeric",
            "Promises taken by D and not judged by D."),
    # --- holds (暂停催收)
    Feature("dispute_hold", "争议暂停", "dispute hold", "flag",
            "A dispute hold (异议) on the case or the debtor standing at the end of D."),
    Feature("complaint_hold", "投诉暂停", "complaint hold", "flag",
            "A complaint hold (投诉调查中) on the case or the debtor standing at the end of D."),
    # --- contact points, co-debts, person (联系方式、共债、个人)
    Feature("debtor_points_valid", "本人有效联系方式数", "valid own contact points", "numeric",
            "The debtor's own contact points recorded by D and not marked invalid by D."),
    Feature("third_party_points", "第三方联系方式数", "third-party contact points", "numeric",
            "Third-party contact points (family, colleague …) recorded by D and not marked "
            "invalid by D."),
    Feature("co_debts", "共债案件数", "co-debts", "numeric",
            "Other cases of the same person (same ID number) open at D, with any creditor."),
    Feature("age", "年龄", "age", "numeric",
            "Age in whole years at D from the ID number's birth date (null when unreadable)."),
    Feature("region", "地区", "region", "categorical",
            "The ID number's province code (its first two digits)."),
)  # fmt: skip

_BY_CODE = {f.code: f for f in FEATURES}


def feature(code: str) -> Feature:
    """The catalogue entry of a feature code; an unknown code raises ``KeyError``."""
    return _BY_CODE[code]


def codes(kind: Kind | None = None) -> tuple[str, ...]:
    """Feature codes in catalogue order, optionally of one kind."""
    return tuple(f.code for f in FEATURES if kind is None or f.kind == kind)
