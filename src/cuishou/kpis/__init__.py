"""KPIs (绩效指标): one definition per metric, sliced by time, collector, team, agency,
creditor and bucket, with targets, rankings and anomaly flags (docs/kpis.md, ADR 0019)."""
