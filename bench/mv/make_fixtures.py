"""Writes the compact eemeter reference fixtures used by crates/engines/mv/tests/it/eemeter_samples.rs.

Source: eemeter 2.10.11 simulated sample meters (Apache-2.0), `eemeter.load_sample`:
il-electricity-cdd-hdd-daily and il-electricity-cdd-hdd-billing_monthly with il-tempF.
Temperatures are stored as 24-hour block means and hour counts (blocks aligned with the
usage periods), which preserves exactly what CalTRACK needs (daily mean, coverage).
Also prints eemeter's fitted results at full precision (the reference values).
Run: /tmp/qcity-mv-eemeter-venv/bin/python bench/mv/make_fixtures.py
"""
import os

import eemeter
import numpy as np
import pandas as pd

OUT = os.path.join(os.path.dirname(__file__), "../../crates/engines/mv/tests/data")


def blocks(temp, start, end):
    rows = []
    t = start
    while t < end:
        s = temp[(temp.index >= t) & (temp.index < t + pd.Timedelta("1D"))].dropna()
        rows.append((t, float(s.mean()) if len(s) else np.nan, len(s)))
        t += pd.Timedelta("1D")
    return rows


def write(path, header, rows):
    with open(path, "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join("" if (isinstance(x, float) and np.isnan(x)) else
                             x[1:] if isinstance(x, str) else
                             (x.isoformat() if hasattr(x, "isoformat") else repr(x)) for x in r) + "\n")


# Daily: baseline and reporting years.
meter, temp, meta = eemeter.load_sample("il-electricity-cdd-hdd-daily")
base, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
rep, _ = eemeter.get_reporting_data(meter, start=meta["blackout_end_date"], max_days=365)
rows = [(ts, float(v) if not pd.isna(v) else np.nan, "@baseline") for ts, v in base["value"].items()]
rows += [(ts, float(v) if not pd.isna(v) else np.nan, "@reporting") for ts, v in rep["value"].items()]
write(f"{OUT}/eemeter_il_daily_usage.csv", "start,value,period", rows)
write(f"{OUT}/eemeter_il_daily_temp.csv", "block_start,temp_mean,hours",
      blocks(temp, base.index[0], rep.index[-1] + pd.Timedelta("1D")))
res = eemeter.fit_caltrack_usage_per_day_model(eemeter.create_caltrack_daily_design_matrix(base, temp))
print("daily", res.model.model_type, res.model.model_params, "r2_adj", res.model.r_squared_adj,
      "cvrmse_adj", res.totals_metrics.cvrmse_adj)
sav, _ = eemeter.metered_savings(res, rep, temp)
print("daily savings observed", sav["reporting_observed"].sum(), "predicted",
      sav["counterfactual_usage"].sum(), "avoided", sav["metered_savings"].sum())

# Billing: baseline bills.
meter, temp, meta = eemeter.load_sample("il-electricity-cdd-hdd-billing_monthly")
base, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
idx = list(base.index)
write(f"{OUT}/eemeter_il_billing_usage.csv", "start,end,value",
      [(a, b, float(base["value"][a])) for a, b in zip(idx, idx[1:])])
write(f"{OUT}/eemeter_il_billing_temp.csv", "block_start,temp_mean,hours", blocks(temp, idx[0], idx[-1]))
res = eemeter.fit_caltrack_usage_per_day_model(
    eemeter.create_caltrack_billing_design_matrix(base, temp), use_billing_presets=True,
    weights_col="n_days_kept")
print("billing", res.model.model_type, res.model.model_params, "r2_adj", res.model.r_squared_adj)
