"""Agreement use cases: quote (试算), request, approval inbox, approve/reject, amend (修订),
withdraw (撤回), document. Fetch → decide (``rules``, ``approval``) → act (with events).

A case has one active agreement: a pending request or a running plan. A new plan while one
runs is an amendment naming it; approving the amendment supersedes the old plan (its waiver
reinstated by ledger entries) and takes the new waiver off, in one transaction. The approval
matrix judges the cumulative waiver on the case (:func:`cuishou.agreements.approval.cumulative`),
when the request is made and again when it is approved. Tracking, completion and breaks are
the daily cycle's (``engine``).

* :mod:`.common` — what a case owes, the matrix's figures, the agreement as shown;
* :mod:`.requests` — quote, request, inbox, reading;
* :mod:`.decisions` — approve, reject, supersede, withdraw, the waiver's ledger entries;
* :mod:`.documents` — the PDF, masked for everyone, full for ``pii.reveal`` (audited).
"""

from __future__ import annotations

from cuishou.agreements.service.common import agreement_out, owed_of, terms_of
from cuishou.agreements.service.decisions import decide, withdraw
from cuishou.agreements.service.documents import document, render_document
from cuishou.agreements.service.requests import (
    case_agreements,
    get_agreement,
    inbox,
    quote_agreement,
    request_agreement,
)

__all__ = [
    "agreement_out",
    "case_agreements",
    "decide",
    "document",
    "get_agreement",
    "inbox",
    "owed_of",
    "quote_agreement",
    "render_document",
    "request_agreement",
    "terms_of",
    "withdraw",
]
