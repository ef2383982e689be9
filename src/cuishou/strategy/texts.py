"""The strategy pages' words (策略管理界面文字), zh and en; merged into the pages' one
catalogue (:mod:`cuishou.web.i18n`) under their keys. Pure data."""

from __future__ import annotations

#: action → (中文, English)
ACTION_NAMES: dict[str, tuple[str, str]] = {
    "sms": ("短信", "SMS"),
    "call": ("电话", "Call"),
    "ivr": ("机器人外呼", "Robot call"),
    "letter": ("信函", "Letter"),
    "email": ("邮件", "E-mail"),
    "wechat": ("微信", "WeChat"),
    "visit": ("外访申请", "Field visit request"),
    "agency": ("委外候选", "Agency placement candidate"),
    "legal": ("法诉候选", "Legal referral candidate"),
    "hold": ("暂停催收", "Hold"),
}

#: state → (中文, English)
STATE_NAMES: dict[str, tuple[str, str]] = {
    "draft": ("待审批", "Awaiting approval"),
    "approved": ("已批准", "Approved"),
    "rejected": ("已驳回", "Rejected"),
    "retired": ("已停用", "Retired"),
    "in_force": ("生效中", "In force"),
    "scheduled": ("待生效", "Scheduled"),
    "superseded": ("已被替代", "Superseded"),
}

LABELS: dict[str, tuple[str, str]] = {
    "nav.strategies": ("策略", "Strategies"),
    "strategy.title": ("催收策略", "Collection strategies"),
    "strategy.hint": (
        "策略是决策表加处置路径：编辑、校验、对比后提交，由另一人审批后按生效日期启用。",
        "A strategy is a decision table plus treatment paths: edit, validate and diff it, "
        "submit it; another person approves it and it takes effect from a date.",
    ),
    "strategy.new": ("新建草稿", "New draft"),
    "strategy.version": ("版本", "Version"),
    "strategy.name": ("名称", "Name"),
    "strategy.state": ("状态", "State"),
    "strategy.author": ("提交人", "Submitted by"),
    "strategy.approved_by": ("审批人", "Approved by"),
    "strategy.effective_from": ("生效日期", "In force from"),
    "strategy.none": ("还没有策略版本。", "No strategy versions yet."),
    "strategy.back": ("返回策略列表", "Back to the strategies"),
    "strategy.table": ("决策表", "Decision table"),
    "strategy.hit_policy": ("命中策略", "Hit policy"),
    "strategy.hit_policy.first": (
        "first：按顺序，第一条命中的行生效",
        "first: the first row that matches wins",
    ),
    "strategy.hit_policy.unique": (
        "unique：每个案件最多命中一行",
        "unique: at most one row may match a case",
    ),
    "strategy.row": ("行", "Row"),
    "strategy.conditions": ("条件", "Conditions"),
    "strategy.segment": ("分群", "Segment"),
    "strategy.note": ("说明", "Note"),
    "strategy.paths": ("处置路径（催收时间表）", "Treatment paths (schedules)"),
    "strategy.day": ("第 {day} 天", "Day {day}"),
    "strategy.repeat": ("每 {every} 天", "every {every} days"),
    "strategy.until": ("至第 {to} 天", "until day {to}"),
    "strategy.priority": ("优先级 {priority}", "priority {priority}"),
    "strategy.cap": ("每日上限 {cap}", "cap {cap}/day"),
    "strategy.editor": ("编辑 YAML", "Edit the YAML"),
    "strategy.editor_hint": (
        "修改后先校验、与生效版本对比，再提交审批。格式见 docs/strategy.md。",
        "Validate and diff against the version in force, then submit for approval. "
        "The format: docs/strategy.md.",
    ),
    "strategy.change_note": ("变更说明", "What changed and why"),
    "strategy.validate": ("校验", "Validate"),
    "strategy.diff": ("与生效版本对比", "Diff against the version in force"),
    "strategy.submit": ("提交审批", "Submit for approval"),
    "strategy.approve": ("批准", "Approve"),
    "strategy.reject": ("驳回", "Reject"),
    "strategy.activate": ("启用", "Activate"),
    "strategy.review_note": ("审批意见", "Remark"),
    "strategy.own_draft": (
        "这是您提交的版本，需由另一位策略经理或主管审批（四眼原则）。",
        "You submitted this version: another strategy manager or a manager must approve it "
        "(four eyes).",
    ),
    "strategy.clean": ("校验通过：未发现问题。", "Validated: no problems found."),
    "strategy.problems": ("发现 {count} 个问题", "{count} problem(s) found"),
    "strategy.checked_cases": ("基于 {count} 个在催案件。", "Checked against {count} open cases."),
    "strategy.rows_title": ("各行命中案件数", "Cases per row"),
    "strategy.matched": ("符合条件", "Match"),
    "strategy.decided": ("归入该行", "Decided"),
    "strategy.no_diff": (
        "与生效版本 {name} 相比没有变化。",
        "No change from {name}, the version in force.",
    ),
    "strategy.diff_title": (
        "与生效版本 {name} 相比：",
        "Changes from {name}, the version in force:",
    ),
    "strategy.no_active": ("目前没有生效的策略。", "No strategy is in force."),
    "strategy.submitted": (
        "已提交，等待另一人审批。",
        "Submitted; it awaits another person's approval.",
    ),
    "strategy.approved_done": ("已批准。", "Approved."),
    "strategy.rejected_done": ("已驳回。", "Rejected."),
    "strategy.activated_done": ("已启用。", "Activated."),
    "strategy.history": ("版本历史", "History"),
    "strategy.problem_kind.document": ("格式错误", "Document"),
    "strategy.problem_kind.overlap": ("行重叠", "Overlap"),
    "strategy.problem_kind.shadowed": ("永不命中的行", "Row never reached"),
    "strategy.problem_kind.unknown_value": ("不存在的取值", "Unknown value"),
    "strategy.problem_kind.gap": ("未覆盖的案件", "Gap"),
    "strategy.problem_kind.unknown_template": ("未知模板", "Unknown template"),
    "strategy.problem_kind.template_channel": ("模板渠道不符", "Template channel"),
    "strategy.problem_kind.never_allowed": ("规则包永不允许", "Never allowed by the rule pack"),
    "event.strategy.submitted": ("提交策略版本", "Strategy submitted"),
    "event.strategy.approved": ("批准策略版本", "Strategy approved"),
    "event.strategy.rejected": ("驳回策略版本", "Strategy rejected"),
    "event.strategy.activated": ("启用策略版本", "Strategy activated"),
    "event.strategy.retired": ("停用策略版本", "Strategy retired"),
    "event.strategy.rolled_back": ("策略回滚（停用）", "Strategy rolled back"),
    "event.strategy.restored": ("策略回滚（恢复）", "Strategy restored by rollback"),
}
for _code, _names in ACTION_NAMES.items():
    LABELS[f"strategy_action.{_code}"] = _names
for _code, _names in STATE_NAMES.items():
    LABELS[f"strategy_state.{_code}"] = _names
