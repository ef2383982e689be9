"""The agency pages' labels (zh, en), merged into the one catalogue (``web.i18n``)."""

from __future__ import annotations

from cuishou.agency.rules import LINE_KINDS, RECALL_REASONS

LABELS: dict[str, tuple[str, str]] = {
    "nav.agency": ("委外", "Agencies"),
    "agency.title": ("委外管理", "Agency placement"),
    "agency.hint": (
        "委外批次、佣金结算单与机构排名；机构用户只看到本机构的数据。",
        "Placements, commission statements and the league table; an agency sees its own only.",
    ),
    "agency.placements": ("委外批次", "Placements"),
    "agency.placement": ("委外批次", "Placement"),
    "agency.statements": ("佣金结算单", "Commission statements"),
    "agency.statement": ("佣金结算单", "Commission statement"),
    "agency.this_month": ("本月结算单（草稿）", "This month's statement (draft)"),
    "agency.league": ("机构排名", "League table"),
    "agency.none": ("暂无委外批次", "No placements yet"),
    "agency.no_statements": ("暂无已结算的结算单", "No closed statements yet"),
    "agency.no_league": ("期间内无机构持有案件", "No agency held cases in the period"),
    "agency.agency": ("委外机构", "Agency"),
    "agency.placed_on": ("委案日", "Placed on"),
    "agency.ends_on": ("委案期至", "Period ends"),
    "agency.status": ("状态", "Status"),
    "agency.status.active": ("委案中", "Active"),
    "agency.status.ended": ("已结束", "Ended"),
    "agency.status.draft": ("草稿", "Draft"),
    "agency.status.closed": ("已结算", "Closed"),
    "agency.selection": ("选案方式", "Chosen by"),
    "agency.cases": ("案件数", "Cases"),
    "agency.still_placed": ("在委", "Still placed"),
    "agency.amount_placed": ("委案金额", "Amount placed"),
    "agency.case": ("案件", "Case"),
    "agency.bucket": ("委案账龄", "Bucket when placed"),
    "agency.tier": ("金额分层", "Amount tier"),
    "agency.due": ("委案时欠款", "Due when placed"),
    "agency.recalled_on": ("退案日", "Recalled on"),
    "agency.recall_reason": ("退案原因", "Recall reason"),
    "agency.month": ("月份", "Month"),
    "agency.collected": ("回款（净）", "Collected (net)"),
    "agency.commission": ("佣金", "Commission"),
    "agency.clawback": ("追回", "Clawback"),
    "agency.lines": ("明细数", "Lines"),
    "agency.closed": ("结算人/时间", "Closed by / at"),
    "agency.date": ("日期", "Date"),
    "agency.kind": ("类型", "Kind"),
    "agency.reference": ("流水号", "Reference"),
    "agency.cash": ("金额", "Amount"),
    "agency.rate": ("费率", "Rate"),
    "agency.rank": ("排名", "Rank"),
    "agency.due_at_start": ("期初欠款", "Due at start"),
    "agency.recovered": ("回款金额", "Recovered"),
    "agency.recovery_rate": ("回款率", "Recovery rate"),
    "agency.violations": ("违规", "Violations"),
    "agency.complaints": ("投诉", "Complaints"),
    "agency.period": ("期间", "Period"),
    "agency.draft_note": (
        "草稿按账务流水实时计算，结算后不再变动；结算后的冲正在下一期追回。",
        "A draft is recomputed from the ledger; once closed it never changes, and a later "
        "reversal is clawed back on the next statement.",
    ),
    "event.case.placed": ("委外", "Placed with an agency"),
    "event.case.recalled": ("退案", "Recalled from the agency"),
}
for _code, (_zh, _en) in RECALL_REASONS.items():
    LABELS[f"recall.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in LINE_KINDS.items():
    LABELS[f"commission_line.{_code}"] = (_zh, _en)
