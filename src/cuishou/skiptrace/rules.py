"""Skip-tracing rules (失联修复): what a repair vendor is sent and what it may send back.

Pure: plain values in and out. A vendor request row carries the minimum a vendor needs to
trace a person, masked as every export is (:mod:`cuishou.kit.masking`): the debtor's name
(张**) and ID number (110***********1234) with the region we know, and the case id as the
reference its results come back with (docs/skiptrace.md). A result row is a contact point
decided by the contact domain's rule (:func:`cuishou.contact.rules.new_point`): the same
normalisation and validation as a point added on the workbench.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cuishou.contact.rules import NewPoint, new_point
from cuishou.kit.masking import mask_id_number, mask_name
from cuishou.placement.columns import Column
from cuishou.placement.rules import Reason

#: the shared customer label (scoring/labels.yaml, ``unreachable`` 失联型) that puts a case
#: in the repair queue: every own point invalid, or not reached for N days though tried
UNREACHABLE = "unreachable"
#: a file of contact points (a vendor's results, a public-record list) is read as this kind
POINTS_FILE = "contact_points"

#: the request file's columns, in order
REQUEST_COLUMNS = ("case_id", "debtor_name", "id_number", "province", "city", "requested_on")

POINT_COLUMNS: tuple[Column, ...] = (
    Column("case_id", ("案件号", "案件编号", "案件ID", "case", "reference"), True, "int",
           "The case id, as in the request file", "1024"),
    Column("kind", ("类型", "联系方式类型", "type"), True, "text",
           "mobile, phone, email, address or wechat", "mobile"),
    Column("value", ("联系方式", "号码", "值", "contact"), True, "text",
           "The number, address, e-mail or WeChat ID", "13800138000"),
    Column("owner", ("归属", "所有人", "本人或第三方"), False, "text",
           "debtor (本人, the default) or third_party (第三方)", "debtor"),
    Column("owner_name", ("联系人姓名", "联系人", "姓名", "name"), False, "text",
           "A third party's name", "李娜"),
    Column("relation", ("关系", "与债务人关系"), False, "text",
           "A third party's relation: 配偶, 父母, 同事 …", "配偶"),
    Column("source", ("来源",), False, "text",
           "debtor, third_party, public_record or repair_vendor (else the import's source)",
           "repair_vendor"),
)  # fmt: skip

_OWNER_WORDS = {
    "本人": "debtor",
    "债务人": "debtor",
    "第三方": "third_party",
    "他人": "third_party",
}


@dataclass(frozen=True, slots=True)
class PointRow:
    """One accepted row of a points file: the case it is for and the point to add."""

    case_id: int
    point: NewPoint


def request_row(
    *, case_id: int, name: str, id_number: str, province: str | None, city: str | None,
    requested_on: str,
) -> dict[str, str]:  # fmt: skip
    """One line of a vendor request: name and ID number masked (kit defaults)."""
    return {
        "case_id": str(case_id),
        "debtor_name": mask_name(name),
        "id_number": mask_id_number(id_number),
        "province": province or "",
        "city": city or "",
        "requested_on": requested_on,
    }


def point_row(row: Mapping[str, str | None], *, default_source: str) -> PointRow | Reason:
    """The case and point a file row gives, or why it cannot be taken."""
    case_text = (row.get("case_id") or "").strip()
    if not case_text.isdigit() or not 0 < int(case_text) < 2**63:
        return Reason(
            f"case_id: {case_text!r} is not a case id (a whole number)",
            f"case_id：「{case_text}」不是案件号（正整数）",
        )
    owner = (row.get("owner") or "debtor").strip()
    decided = new_point(
        kind=row.get("kind") or "",
        value=row.get("value") or "",
        owner=_OWNER_WORDS.get(owner, owner.lower()),
        source=(row.get("source") or default_source).strip().lower(),
        owner_name=row.get("owner_name") or "",
        relation=row.get("relation"),
    )
    if isinstance(decided, Reason):
        return decided
    return PointRow(case_id=int(case_text), point=decided)
