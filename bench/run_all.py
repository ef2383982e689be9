"""Run every benchmark with its default (issue-target) sizes: ``make bench``.

Set ``CUISHOU_BENCH_POSTGRES`` to a PostgreSQL URL (its schema is reset) to also
measure the PostgreSQL store. Results are printed; record them in bench/README.md.
"""

from __future__ import annotations

import os

from bench import cli_startup, compliance_gate, daily_cycle, import_accounts, repayment, web_load


def main() -> None:
    postgres = os.environ.get("CUISHOU_BENCH_POSTGRES")
    extra = ["--postgres", postgres] if postgres else []
    daily_cycle.main(extra)
    import_accounts.main(extra)
    web_load.main(extra)
    repayment.main([])
    compliance_gate.main([])
    cli_startup.main([])


if __name__ == "__main__":
    main()
