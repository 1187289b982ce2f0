"""Pure domain model and math of scorecards, KPIs, OKRs and initiatives (no I/O)."""
