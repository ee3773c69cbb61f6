#!/usr/bin/env python3
"""Runs NetWatch's own Streamlit dashboard script headless (streamlit.testing AppTest)
against a running netsnoop and prints what it rendered: metrics, the alert cards, the
recent-packets table, and any exception. A manual drop-in check, not a test.

Usage: API_URL=http://127.0.0.1:8000 python dashboard_check.py NETWATCH_DIR/dashboard/app.py
(run with a Python that has streamlit, pandas, plotly and requests installed)."""
import sys

from streamlit.testing.v1 import AppTest

at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
print("exception:", [e.value for e in at.exception] or "none")
print("errors:", [e.value for e in at.error] or "none")
print("warnings:", [w.value for w in at.warning] or "none")
for m in at.metric:
    print(f"metric {m.label!r}: {m.value}")
for md in at.markdown:
    if "alert-card" in md.value or "success-card" in md.value:
        print("alert card:", " ".join(md.value.split())[:200])
for df in at.dataframe:
    print("table columns:", list(df.value.columns), "rows:", len(df.value))
    print(df.value.head(5).to_string())
print("charts:", len(at.get("plotly_chart")))
sys.exit(1 if at.exception else 0)
