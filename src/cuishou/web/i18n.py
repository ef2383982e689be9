"""The pages' one label catalogue (界面文字): Chinese (zh-CN, the default) and English.

Templates never hold a label of their own: every word a person reads comes from
:data:`MESSAGES` through ``t(key)``. Domain code lists (outcomes, channels, alert kinds,
roles, promise statuses) keep their zh/en labels beside the rules that define them; they
are merged here under ``outcome.<code>``, ``channel.<code>`` and so on, so there is one
lookup for everything.
"""

from __future__ import annotations

from cuishou.alerts.rules import ALERT_KINDS
from cuishou.auth.rules import ROLES
from cuishou.contact.rules import CHANNELS, OUTCOMES
from cuishou.promises.rules import STATUSES as PROMISE_STATUSES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
#: <html lang=...> per language
HTML_LANG = {"zh": "zh-CN", "en": "en"}

_LABELS: dict[str, tuple[str, str]] = {
    # frame
    "app.name": ("催收工作台", "Cuishou workbench"),
    "app.tagline": ("催收风控系统", "Debt-collection system"),
    "nav.queue": ("我的队列", "My queue"),
    "nav.team": ("团队", "Team"),
    "nav.alerts": ("预警", "Alerts"),
    "nav.overview": ("总览", "Overview"),
    "nav.users": ("用户", "Users"),
    "nav.teams": ("团队管理", "Teams"),
    "nav.logout": ("退出登录", "Log out"),
    "nav.language": ("语言", "Language"),
    "lang.zh": ("中文", "中文"),
    "lang.en": ("English", "English"),
    "common.signed_in_as": ("当前用户", "Signed in as"),
    "common.previous": ("上一页", "Previous"),
    "common.next": ("下一页", "Next"),
    "common.page_of": (
        "第 {page} / {pages} 页，共 {total} 条",
        "Page {page} of {pages}, {total} in all",
    ),
    "common.filter": ("筛选", "Filter"),
    "common.all": ("全部", "All"),
    "common.none": ("无", "None"),
    "common.save": ("保存", "Save"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.empty": ("暂无记录", "Nothing here yet"),
    "common.reveal": ("查看明文", "Reveal"),
    "common.revealed_note": ("已记录查看操作", "Recorded in the audit trail"),
    "common.back_home": ("返回首页", "Back to the start page"),
    "common.yuan": ("元", "yuan"),
    # login
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.throttled": (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed logins; try again in {minutes} minutes",
    ),
    "login.invalid": ("请输入用户名和密码", "Enter a username and a password"),
    "login.logged_out": ("您已退出登录", "You have logged out"),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.403": ("您没有权限执行此操作", "You may not do this"),
    "error.csrf": (
        "表单已失效或来源不明，请刷新页面后重试",
        "This form has expired or did not come from this site; reload the page and try again",
    ),
    "error.404": ("找不到该记录", "Not found"),
    "error.409": ("操作冲突", "This cannot be done in the record's current state"),
    "error.422": ("输入有误", "Please check the input"),
    "error.500": ("系统内部错误，已记录", "Internal error; it has been logged"),
    "error.generic": ("请求无法完成", "The request could not be completed"),
    # queue
    "queue.title": ("我的工作队列", "My work queue"),
    "queue.hint": (
        "排序：今日回拨、到期承诺、账龄、欠款金额",
        "Order: callbacks due today, promises due, bucket, amount due",
    ),
    "queue.case": ("案件", "Case"),
    "queue.debtor": ("债务人", "Debtor"),
    "queue.creditor": ("委托方", "Creditor"),
    "queue.bucket": ("账龄", "Bucket"),
    "queue.dpd": ("逾期天数", "DPD"),
    "queue.due": ("欠款金额", "Amount due"),
    "queue.status": ("状态", "Status"),
    "queue.flags": ("待办", "To do"),
    "queue.callback_due": ("今日回拨", "Callback due"),
    "queue.promise_due": ("承诺到期", "Promise due"),
    "queue.assigned": ("催收员", "Collector"),
    "status.open": ("在催", "Open"),
    "status.closed": ("已结案", "Closed"),
    # case page
    "case.title": ("案件 #{id}", "Case #{id}"),
    "case.debtor": ("债务人", "Debtor"),
    "case.name": ("姓名", "Name"),
    "case.id_number": ("身份证号", "ID number"),
    "case.gender": ("性别", "Gender"),
    "case.region": ("地区", "Region"),
    "case.total_due": ("欠款合计", "Total due"),
    "case.accounts": ("借据/账户", "Accounts"),
    "case.account_no": ("借据号", "Account no."),
    "case.product": ("产品", "Product"),
    "case.principal": ("本金", "Principal"),
    "case.interest": ("利息", "Interest"),
    "case.penalty": ("罚息", "Penalty"),
    "case.fee": ("费用", "Fees"),
    "case.outstanding": ("未还合计", "Outstanding"),
    "case.overdue_since": ("逾期起始日", "Overdue since"),
    "case.contact_points": ("联系方式", "Contact points"),
    "case.owner": ("归属", "Owner"),
    "case.relation": ("关系", "Relation"),
    "case.value": ("号码/地址", "Number / address"),
    "case.kind": ("类型", "Kind"),
    "case.point_status": ("状态", "Status"),
    "case.promises": ("承诺还款", "Promises to pay"),
    "case.timeline": ("时间线", "Timeline"),
    "case.assigned": ("催收员", "Collector"),
    "case.team": ("团队", "Team"),
    "owner.debtor": ("本人", "Debtor"),
    "owner.third_party": ("第三方", "Third party"),
    "point.active": ("有效", "Active"),
    "point.invalid": ("无效", "Invalid"),
    "kind.mobile": ("手机", "Mobile"),
    "kind.phone": ("固话", "Phone"),
    "kind.address": ("地址", "Address"),
    "kind.email": ("邮箱", "E-mail"),
    "gender.M": ("男", "Male"),
    "gender.F": ("女", "Female"),
    "promise.amount": ("承诺金额", "Amount"),
    "promise.due_date": ("承诺日期", "Due date"),
    "promise.status": ("状态", "Status"),
    "promise.by": ("记录人", "Taken by"),
    # log contact
    "contact.form_title": ("记录催记", "Log a contact"),
    "contact.channel": ("渠道", "Channel"),
    "contact.point": ("联系方式", "Contact point"),
    "contact.outcome": ("结果", "Outcome"),
    "contact.notes": ("备注", "Notes"),
    "contact.promise_amount": ("承诺金额（元）", "Promise amount (yuan)"),
    "contact.promise_date": ("承诺还款日", "Promise due date"),
    "contact.callback_at": ("回拨时间", "Callback at"),
    "contact.optional": ("选填", "optional"),
    "contact.submit": ("保存催记", "Save contact"),
    "contact.saved": ("催记已保存", "Contact saved"),
    "contact.alerts_raised": ("已触发预警：{kinds}", "Alerts raised: {kinds}"),
    "contact.recent": ("最近催记", "Recent contacts"),
    "contact.at": ("时间", "Time"),
    "contact.user": ("催收员", "Collector"),
    "contact.party": ("接听方", "Party"),
    "party.debtor": ("本人", "Debtor"),
    "party.third_party": ("他人", "Third party"),
    "party.none": ("未接通", "Nobody"),
    "field.contact_point_id": ("联系方式", "Contact point"),
    "field.channel": ("渠道", "Channel"),
    "field.outcome": ("结果", "Outcome"),
    "field.notes": ("备注", "Notes"),
    "field.promise": ("承诺", "Promise"),
    "field.amount": ("承诺金额", "Promise amount"),
    "field.due_date": ("承诺日期", "Promise due date"),
    "field.callback_at": ("回拨时间", "Callback at"),
    "field.at": ("时间", "Time"),
    "field.request": ("表单", "Form"),
    "field.collector": ("催收员", "Collector"),
    "field.username": ("用户名", "Username"),
    "field.password": ("密码", "Password"),
    "field.role": ("角色", "Role"),
    "field.team": ("团队", "Team"),
    "field.agency": ("委外机构", "Agency"),
    "field.name": ("名称", "Name"),
    "field.case_ids": ("案件", "Cases"),
    # events
    "event.contact.logged": ("记录催记", "Contact logged"),
    "event.contact_point.invalidated": ("联系方式标记无效", "Contact point marked invalid"),
    "event.promise.created": ("承诺还款", "Promise taken"),
    "event.alert.raised": ("触发预警", "Alert raised"),
    "event.alert.acknowledged": ("预警已知悉", "Alert acknowledged"),
    "event.alert.resolved": ("预警已处理", "Alert resolved"),
    "event.case.assigned": ("分案", "Case assigned"),
    "event.pii.revealed": ("查看明文", "PII revealed"),
    "event.by": ("操作人", "By"),
    "event.auth.token_issued": ("登录", "Logged in"),
    "pii.debtor_name": ("姓名", "Name"),
    "pii.id_number": ("身份证号", "ID number"),
    "pii.contact_point": ("联系方式", "Contact point"),
    # team
    "team.title": ("团队队列", "Team queue"),
    "team.workload": ("催收员工作量", "Workload per collector"),
    "team.collector": ("催收员", "Collector"),
    "team.cases": ("在催案件", "Open cases"),
    "team.amount_due": ("欠款金额", "Amount due"),
    "team.contacts_today": ("今日催记", "Contacts today"),
    "team.reassign": ("分案给", "Reassign to"),
    "team.reassign_submit": ("分配所选案件", "Assign the selected cases"),
    "team.select": ("选择", "Select"),
    "team.assigned_done": (
        "已将 {n} 个案件分配给 {collector}",
        "{n} cases assigned to {collector}",
    ),
    "team.filter_assigned": ("催收员", "Collector"),
    "team.unassigned": ("未分配", "Unassigned"),
    # alerts
    "alerts.title": ("预警", "Alerts"),
    "alerts.kind": ("类型", "Kind"),
    "alerts.case": ("案件", "Case"),
    "alerts.raised_on": ("触发日期", "Raised on"),
    "alerts.status": ("状态", "Status"),
    "alerts.actions": ("处理", "Actions"),
    "alerts.acknowledge": ("知悉", "Acknowledge"),
    "alerts.resolve": ("处理完成", "Resolve"),
    "alerts.resolved_by": ("处理人", "Resolved by"),
    "alerts.show": ("显示", "Show"),
    "alert_status.open": ("待处理", "Open"),
    "alert_status.acknowledged": ("已知悉", "Acknowledged"),
    "alert_status.resolved": ("已处理", "Resolved"),
    "alert_status.unresolved": ("未处理", "Unresolved"),
    # overview
    "overview.title": ("经营总览", "Overview"),
    "overview.by_bucket": ("账龄分布（在催案件）", "Open cases by bucket"),
    "overview.cases": ("案件数", "Cases"),
    "overview.amount": ("欠款金额（元）", "Amount due (yuan)"),
    "overview.today": ("今日作业", "Today"),
    "overview.contacts_today": ("今日催记", "Contacts today"),
    "overview.promises_today": ("今日承诺", "Promises today"),
    "overview.promised_amount": ("今日承诺金额", "Promised today"),
    "overview.contacts_by_outcome": ("今日催记结果", "Today's contacts by outcome"),
    "overview.recovery_by_team": ("各团队回款（累计）", "Recovery so far by team"),
    "overview.team": ("团队", "Team"),
    "overview.recovered": ("回款金额（元）", "Recovered (yuan)"),
    "overview.payments": ("笔数", "Payments"),
    "overview.no_team": ("未分组", "No team"),
    "overview.count": ("数量", "Count"),
    # admin
    "users.title": ("用户", "Users"),
    "users.create": ("新建用户", "New user"),
    "users.display_name": ("显示名", "Display name"),
    "users.active": ("启用", "Active"),
    "users.created": ("已创建用户 {username}", "User {username} created"),
    "teams.title": ("团队", "Teams"),
    "teams.create": ("新建团队", "New team"),
    "teams.members": ("成员数", "Members"),
    "teams.leads": ("组长", "Team leads"),
    "teams.created": ("已创建团队 {name}", "Team {name} created"),
}

for _code, _outcome in OUTCOMES.items():
    _LABELS[f"outcome.{_code}"] = (_outcome.zh, _outcome.en)
for _code, (_zh, _en, _kinds) in CHANNELS.items():
    _LABELS[f"channel.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in ALERT_KINDS.items():
    _LABELS[f"alert.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in ROLES.items():
    _LABELS[f"role.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in PROMISE_STATUSES.items():
    _LABELS[f"promise_status.{_code}"] = (_zh, _en)

#: language -> key -> label
MESSAGES: dict[str, dict[str, str]] = {
    "zh": {key: zh for key, (zh, _en) in _LABELS.items()},
    "en": {key: en for key, (_zh, en) in _LABELS.items()},
}


def language_of(value: str | None) -> str:
    """The language a cookie or parameter names, else the default (zh)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def translate(language: str, key: str, **values: object) -> str:
    """The label for ``key``; a key missing from the catalogue shows as itself."""
    text = MESSAGES[language_of(language)].get(key, key)
    return text.format(**values) if values else text
