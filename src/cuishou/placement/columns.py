"""The placement file format: canonical column names and the headers banks use.

This module is the single source of truth for ``docs/import-format.md``, the
template files and the portfolio generator. Each column has a canonical English
name and the Chinese headers found in bank exports; matching ignores case,
surrounding spaces, full-width brackets and a trailing unit such as ``(元)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    required: bool
    kind: str  # text | id_number | mobile | phone | date | datetime | yuan | rate | int
    description: str
    example: str


MAX_THIRD_PARTIES = 5

ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column(
        "creditor_code",
        ("委托方代码", "委托方", "债权方代码", "creditor"),
        False,
        "text",
        "Creditor code; may instead be given with --creditor",
        "ZSBANK",
    ),
    Column(
        "batch_no",
        ("委案批次", "批次号", "委案批次号", "batch"),
        False,
        "text",
        "Placement batch (委案批次); defaults to the file name",
        "2026-11-A",
    ),
    Column(
        "placed_on",
        ("委案日期", "委案日", "placement_date"),
        False,
        "date",
        "Date the batch was placed; defaults to the snapshot date",
        "2026-11-01",
    ),
    Column(
        "return_on",
        ("退案日期", "委案到期日", "return_date"),
        False,
        "date",
        "Date the batch is to be returned",
        "2027-01-31",
    ),
    Column(
        "account_no",
        ("借据号", "账号", "合同号", "卡号", "贷款账号", "account"),
        True,
        "text",
        "Account / loan number, unique within the creditor",
        "LN202301150001",
    ),
    Column(
        "product",
        ("产品", "产品类型", "产品名称", "业务类型", "product_code"),
        True,
        "text",
        "credit_card 信用卡, consumer_loan 消费贷, small_business 小微经营贷, auto_loan 汽车贷款",
        "consumer_loan",
    ),
    Column(
        "name",
        ("姓名", "客户姓名", "借款人姓名", "债务人姓名", "customer_name"),
        True,
        "text",
        "Debtor's name",
        "张伟",
    ),
    Column(
        "id_number",
        ("身份证号", "身份证号码", "证件号码", "证件号", "id_no"),
        True,
        "id_number",
        "18-digit resident ID number (GB 11643 check digit)",
        "110101199003071233",
    ),
    Column(
        "mobile",
        ("手机号", "手机号码", "本人手机", "联系电话", "phone"),
        False,
        "mobile",
        "Debtor's own mobile",
        "13812345678",
    ),
    Column(
        "email",
        ("邮箱", "电子邮箱", "电子邮件", "邮件地址", "e-mail", "mail"),
        False,
        "text",
        "Debtor's e-mail address (a contact point for e-mail statements)",
        "zhangwei@example.com",
    ),
    Column("province", ("省份", "所在省", "省"), False, "text", "Province", "广东省"),
    Column("city", ("城市", "所在市", "市"), False, "text", "City", "深圳市"),
    Column(
        "language",
        ("语言", "方言", "语种"),
        False,
        "text",
        "Language or dialect the debtor speaks (allocation matches it to collectors)",
        "粤语",
    ),
    Column(
        "home_address",
        ("家庭地址", "住址", "居住地址", "address"),
        False,
        "text",
        "Home address",
        "广东省深圳市南山区科技园路1号",
    ),
    Column(
        "employer",
        ("工作单位", "单位名称", "公司名称"),
        False,
        "text",
        "Employer",
        "某某科技有限公司",
    ),
    Column(
        "work_address",
        ("单位地址", "公司地址", "工作地址"),
        False,
        "text",
        "Work address",
        "广东省深圳市福田区深南大道100号",
    ),
    Column(
        "principal",
        ("逾期本金", "欠款本金", "本金"),
        True,
        "yuan",
        "Overdue principal in yuan (two decimals at most)",
        "12000.00",
    ),
    Column(
        "interest",
        ("逾期利息", "欠款利息", "利息"),
        False,
        "yuan",
        "Overdue interest in yuan",
        "860.50",
    ),
    Column(
        "penalty", ("罚息", "逾期罚息"), False, "yuan", "Penalty interest 罚息 in yuan", "120.00"
    ),
    Column(
        "fee",
        ("费用", "滞纳金", "手续费", "违约金", "fees"),
        False,
        "yuan",
        "Fees and late charges in yuan",
        "50.00",
    ),
    Column(
        "overdue_since",
        ("最早逾期日", "逾期起始日", "首次逾期日", "逾期日期", "最早逾期日期"),
        True,
        "date",
        "Due date of the oldest unpaid amount",
        "2026-06-15",
    ),
    Column(
        "installment",
        ("每期应还", "月供", "每期还款额", "最低还款额"),
        False,
        "yuan",
        "Amount due per monthly cycle; empty if the whole amount is one due item",
        "2100.00",
    ),
    Column(
        "loan_amount",
        ("贷款金额", "放款金额", "授信额度", "合同金额"),
        False,
        "yuan",
        "Original loan amount or credit limit",
        "36000.00",
    ),
    Column(
        "contract_date",
        ("合同日期", "放款日期", "借款日期", "开户日期"),
        False,
        "date",
        "Contract / disbursement date",
        "2025-01-15",
    ),
    Column(
        "annual_rate",
        ("年利率", "执行年利率", "合同年利率"),
        False,
        "rate",
        "Annual contract rate: 0.18, 18% or 18",
        "0.18",
    ),
    Column(
        "snapshot_date",
        ("数据日期", "快照日期", "统计日期", "截止日期"),
        False,
        "date",
        "Date the balances are as of; defaults to --as-of or today",
        "2026-11-01",
    ),
)

# Named third parties 联系人1..5: name, relation, phone.
THIRD_PARTY_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "contact{n}_name",
        ("联系人{n}姓名", "联系人{n}", "紧急联系人{n}姓名", "紧急联系人{n}"),
        "text",
    ),
    ("contact{n}_relation", ("联系人{n}关系", "紧急联系人{n}关系", "与联系人{n}关系"), "text"),
    ("contact{n}_phone", ("联系人{n}电话", "联系人{n}手机", "紧急联系人{n}电话"), "phone"),
)

PAYMENT_COLUMNS: tuple[Column, ...] = (
    Column("creditor_code", ("委托方代码", "委托方", "债权方代码", "creditor"), False, "text",
           "Creditor code; may instead be given with --creditor", "ZSBANK"),
    Column("account_no", ("借据号", "账号", "合同号", "卡号", "贷款账号", "account"), True, "text",
           "Account the payment is for", "LN202301150001"),
    Column("amount", ("还款金额", "实还金额", "入账金额", "金额"), True, "yuan",
           "Amount paid in yuan, greater than zero", "500.00"),
    Column("paid_at", ("还款时间", "还款日期", "入账时间", "交易时间", "paid_on"), True, "datetime",
           "When it was paid (local time of the creditor unless a zone is given)",
           "2026-11-03 14:20:00"),
    Column("reference", ("流水号", "交易流水号", "还款流水号", "交易编号", "ref"), True, "text",
           "The payment's unique external reference; a repeated reference is posted once",
           "PAY20261103000001"),
    Column("channel", ("还款渠道", "渠道", "支付渠道"), False, "text",
           "How it was paid (bank transfer, Alipay, WeChat …)", "bank_transfer"),
)  # fmt: skip

CALL_COLUMNS: tuple[Column, ...] = (
    Column("creditor_code", ("委托方代码", "委托方", "债权方代码", "creditor"), False, "text",
           "Creditor code; may instead be given with --creditor", "ZSBANK"),
    Column("account_no", ("借据号", "账号", "合同号", "卡号", "贷款账号", "account"), True, "text",
           "Account the call was about (its case is the one contacted)", "LN202301150001"),
    Column("call_id", ("话单号", "通话ID", "通话编号", "呼叫ID", "话单ID", "callid"), True,
           "text", "The dialer's own id of the call; with the source name, a repeated id is "
           "imported once", "CALL20261103000001"),
    Column("number", ("被叫号码", "拨打号码", "外呼号码", "电话号码", "号码", "called_number"),
           True, "phone", "The number dialled: one of the debtor's numbers or a named contact's",
           "13812345678"),
    Column("started_at", ("呼叫时间", "开始时间", "拨打时间", "通话开始时间", "start_time"), True,
           "datetime", "When the call started (local time of the creditor unless a zone is "
           "given)", "2026-11-03 10:20:00"),
    Column("duration", ("通话时长", "时长", "通话时长(秒)", "duration_seconds"), False, "int",
           "Talk time in whole seconds", "95"),
    Column("result", ("呼叫结果", "通话结果", "结果", "结果代码", "result_code"), True, "text",
           "The dialer's result code, mapped to an outcome code (contact/dialer_codes.yaml)",
           "ANSWERED"),
    Column("agent", ("坐席", "坐席工号", "催收员", "坐席账号", "agent_username"), True, "text",
           "The collector's username (case-insensitive)", "col_a"),
    Column("promise_amount", ("承诺金额", "承诺还款金额"), False, "yuan",
           "Amount promised, in yuan (with result promise only)", "1000.00"),
    Column("promise_date", ("承诺日期", "承诺还款日期", "承诺还款日"), False, "date",
           "Date by which it is promised (with result promise only)", "2026-11-10"),
)  # fmt: skip

# Relation words in Chinese exports mapped to the codes stored on contact points.
RELATIONS: dict[str, str] = {
    "配偶": "spouse", "夫妻": "spouse", "丈夫": "spouse", "妻子": "spouse", "老公": "spouse",
    "老婆": "spouse", "父母": "parent", "父亲": "parent", "母亲": "parent", "父子": "parent",
    "母子": "parent", "子女": "child", "儿子": "child", "女儿": "child", "兄弟": "sibling",
    "姐妹": "sibling", "兄弟姐妹": "sibling", "兄妹": "sibling", "姐弟": "sibling",
    "亲属": "relative", "亲戚": "relative", "朋友": "friend", "同学": "friend",
    "同事": "colleague", "领导": "colleague", "其他": "other",
    "spouse": "spouse", "parent": "parent", "child": "child", "sibling": "sibling",
    "relative": "relative", "friend": "friend", "colleague": "colleague", "other": "other",
}  # fmt: skip

PRODUCTS: dict[str, str] = {
    "credit_card": "credit_card", "信用卡": "credit_card", "贷记卡": "credit_card",
    "consumer_loan": "consumer_loan", "消费贷": "consumer_loan", "消费贷款": "consumer_loan",
    "个人消费贷款": "consumer_loan", "现金贷": "consumer_loan",
    "small_business": "small_business", "小微经营贷": "small_business",
    "经营贷": "small_business", "小微企业贷款": "small_business", "个人经营贷款": "small_business",
    "auto_loan": "auto_loan", "汽车贷款": "auto_loan", "车贷": "auto_loan",
}  # fmt: skip

_UNIT_RE = re.compile(r"[\(（][^\)）]*[\)）]$")


def normalize_header(header: str) -> str:
    """Header as matched: trimmed, lower case, no BOM, no trailing unit like ``(元)``."""
    cleaned = header.replace("\ufeff", "").strip()
    cleaned = _UNIT_RE.sub("", cleaned).strip()
    return cleaned.lower().replace(" ", "_")


def third_party_columns() -> tuple[Column, ...]:
    out: list[Column] = []
    for n in range(1, MAX_THIRD_PARTIES + 1):
        for name, aliases, kind in THIRD_PARTY_FIELDS:
            out.append(
                Column(
                    name.format(n=n),
                    tuple(a.format(n=n) for a in aliases),
                    False,
                    kind,
                    f"Named third party {n}: {name.split('_')[1]}",
                    "",
                )
            )
    return tuple(out)


ALL_ACCOUNT_COLUMNS: tuple[Column, ...] = ACCOUNT_COLUMNS + third_party_columns()


def header_map(columns: tuple[Column, ...]) -> dict[str, str]:
    """normalized header → canonical name, for every name and alias."""
    mapping: dict[str, str] = {}
    for column in columns:
        for spelling in (column.name, *column.aliases):
            mapping[normalize_header(spelling)] = column.name
    return mapping
