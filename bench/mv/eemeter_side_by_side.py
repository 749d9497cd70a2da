"""Fit eemeter 2.10.11 (the CalTRACK 2.0 reference implementation) and qcity-mv on the same
eemeter sample meters, side by side; print coefficients, savings and the time ratio.

Run through ./run.sh (it makes the venv). Data: eemeter's simulated sample meters
(`eemeter.load_sample`, Apache-2.0), exported to CSV under $WORK.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import eemeter
import pandas as pd

WORK = os.environ.get("WORK", "/tmp/qcity-mv-bench")
QCITY = os.environ["QCITY_ENERGY"].split()  # command prefix that runs `energy`
REPEAT = int(os.environ.get("REPEAT", "5"))
os.makedirs(WORK, exist_ok=True)


def to_usage_csv(series, path):
    with open(path, "w") as f:
        f.write("start,value\n")
        for ts, v in series.items():
            f.write(f"{ts.isoformat()},{'' if pd.isna(v) else repr(float(v))}\n")


def to_temp_csv(series, path):
    with open(path, "w") as f:
        f.write("timestamp,temperature_f\n")
        for ts, v in series.items():
            if not pd.isna(v):
                f.write(f"{ts.isoformat()},{float(v)!r}\n")


def timed(fn, n=REPEAT):
    ts, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def ours(args):
    return subprocess.run(QCITY + args, check=True, capture_output=True)


def daily(sample):
    meter, temp, meta = eemeter.load_sample(sample)
    base, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
    rep, _ = eemeter.get_reporting_data(meter, start=meta["blackout_end_date"], max_days=365)
    u, r, t = (f"{WORK}/{sample}-{k}.csv" for k in ("baseline", "reporting", "temp"))
    to_usage_csv(base["value"], u)
    to_usage_csv(rep["value"], r)
    to_temp_csv(temp, t)

    gas = "-gas-" in sample

    def fit_eemeter():
        dm = eemeter.create_caltrack_daily_design_matrix(base, temp)
        return eemeter.fit_caltrack_usage_per_day_model(dm, fit_cdd=not gas)

    t_py, res = timed(fit_eemeter)
    m = res.model
    sav, _ = eemeter.metered_savings(res, rep, temp)
    mj = f"{WORK}/{sample}-model.json"
    t_rs, _ = timed(lambda: ours(["fit", "--usage", u, "--temperature", t,
                                   "--model", "caltrack-daily", "--gas" if gas else "--electricity",
                                   "--out", mj]))
    q = json.load(open(mj))
    sj = f"{WORK}/{sample}-savings.json"
    ours(["savings", "--model", mj, "--usage", r, "--temperature", t, "--out", sj])
    s = json.load(open(sj))
    p = m.model_params
    print(f"\n== {sample} (CalTRACK daily, {'gas' if gas else 'electricity'}, baseline {len(base)} days) ==")
    print(f"{'':24}{'eemeter 2.10.11':>18}{'qcity-mv':>14}")
    rows = [("model_type", m.model_type, q["model_type"]),
            ("heating_balance_point", p.get("heating_balance_point"), q["heating_balance_point"]),
            ("cooling_balance_point", p.get("cooling_balance_point"), q["cooling_balance_point"]),
            ("intercept", p.get("intercept"), q["intercept"]),
            ("heating_slope", p.get("beta_hdd"), q["heating_slope"]),
            ("cooling_slope", p.get("beta_cdd"), q["cooling_slope"]),
            ("r2_adj", m.r_squared_adj, q["r2_adj"]),
            ("cvrmse", res.totals_metrics.cvrmse_adj, q["cvrmse"]),
            ("reporting observed", sav["reporting_observed"].sum(), s["observed"]),
            ("reporting predicted", sav["counterfactual_usage"].sum(), s["predicted"]),
            ("avoided energy", sav["metered_savings"].sum(), s["avoided"])]
    for name, a, b in rows:
        fa = f"{a:.4f}" if isinstance(a, float) else str(a)
        fb = f"{b:.4f}" if isinstance(b, float) else str(b)
        print(f"{name:24}{fa:>18}{fb:>14}")
    print(f"fit time median of {REPEAT}: eemeter {t_py*1e3:.1f} ms (in-process, design+fit) | "
          f"qcity-mv {t_rs*1e3:.1f} ms (whole CLI process incl. CSV parsing) | "
          f"ratio eemeter/qcity = {t_py/t_rs:.1f}x")


def to_billing_csv(series, path):
    with open(path, "w") as f:
        f.write("start,end,value\n")
        idx = list(series.index)
        for a, b in zip(idx, idx[1:]):
            v = series[a]
            f.write(f"{a.isoformat()},{b.isoformat()},{'' if pd.isna(v) else repr(float(v))}\n")


def billing(sample):
    meter, temp, meta = eemeter.load_sample(sample)
    base, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
    rep, _ = eemeter.get_reporting_data(meter, start=meta["blackout_end_date"], max_days=365)
    u, r, t = (f"{WORK}/{sample}-{k}.csv" for k in ("baseline", "reporting", "temp"))
    to_billing_csv(base["value"], u)
    to_billing_csv(rep["value"], r)
    to_temp_csv(temp, t)

    def fit_eemeter():
        dm = eemeter.create_caltrack_billing_design_matrix(base, temp)
        return eemeter.fit_caltrack_usage_per_day_model(
            dm, use_billing_presets=True, weights_col="n_days_kept")

    t_py, res = timed(fit_eemeter)
    m = res.model
    mj = f"{WORK}/{sample}-model.json"
    t_rs, _ = timed(lambda: ours(["fit", "--usage", u, "--temperature", t,
                                   "--model", "caltrack-billing", "--out", mj]))
    q = json.load(open(mj))
    p = m.model_params
    print(f"\n== {sample} (CalTRACK billing, {len(base) - 1} baseline periods) ==")
    print(f"{'':24}{'eemeter 2.10.11':>18}{'qcity-mv':>14}")
    for name, a, b in [("model_type", m.model_type, q["model_type"]),
                       ("heating_balance_point", p.get("heating_balance_point"), q["heating_balance_point"]),
                       ("cooling_balance_point", p.get("cooling_balance_point"), q["cooling_balance_point"]),
                       ("intercept", p.get("intercept"), q["intercept"]),
                       ("heating_slope", p.get("beta_hdd"), q["heating_slope"]),
                       ("cooling_slope", p.get("beta_cdd"), q["cooling_slope"]),
                       ("r2_adj", m.r_squared_adj, q["r2_adj"]),
                       ("n periods", res.totals_metrics.observed_length, q["n"])]:
        fa = f"{a:.4f}" if isinstance(a, float) else str(a)
        fb = f"{b:.4f}" if isinstance(b, float) else str(b)
        print(f"{name:24}{fa:>18}{fb:>14}")
    print(f"fit time median of {REPEAT}: eemeter {t_py*1e3:.1f} ms | qcity-mv {t_rs*1e3:.1f} ms (CLI) | "
          f"ratio eemeter/qcity = {t_py/t_rs:.1f}x")


def hourly(sample):
    meter, temp, meta = eemeter.load_sample(sample)
    base, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
    u, t = f"{WORK}/{sample}-baseline.csv", f"{WORK}/{sample}-temp.csv"
    to_usage_csv(base["value"], u)
    to_temp_csv(temp, t)

    def fit_eemeter():
        pdm = eemeter.create_caltrack_hourly_preliminary_design_matrix(base, temp)
        seg = eemeter.segment_time_series(pdm.index, "three_month_weighted")
        occ = eemeter.estimate_hour_of_week_occupancy(pdm, segmentation=seg)
        bins = eemeter.fit_temperature_bins(pdm, segmentation=seg)
        sdm = eemeter.create_caltrack_hourly_segmented_design_matrices(pdm, seg, occ, bins)
        return eemeter.fit_caltrack_hourly_model(sdm, occ, bins)

    t_py, res = timed(fit_eemeter, n=max(1, REPEAT // 2))
    mj = f"{WORK}/{sample}-model.json"
    t_rs, _ = timed(lambda: ours(["fit", "--usage", u, "--temperature", t,
                                   "--model", "caltrack-hourly", "--out", mj]))
    q = json.load(open(mj))
    pred = res.predict(base.index, temp).result["predicted_usage"]
    obs = base["value"].reindex(pred.index)
    ok = obs.notna() & pred.notna()
    e_cv = ((obs[ok] - pred[ok]) ** 2).mean() ** 0.5 / obs[ok].mean()
    print(f"\n== {sample} (CalTRACK hourly TOWT, baseline {len(base)} hours) ==")
    print(f"in-sample CV(RMSE): eemeter {e_cv:.4f} | qcity-mv {q['cvrmse']:.4f}; "
          f"eemeter total predicted {pred[ok].sum():.1f} vs observed {obs[ok].sum():.1f}")
    print(f"fit time median: eemeter {t_py*1e3:.1f} ms | qcity-mv {t_rs*1e3:.1f} ms (CLI) | "
          f"ratio eemeter/qcity = {t_py/t_rs:.1f}x")


if __name__ == "__main__":
    for s in sys.argv[1:] or ["il-electricity-cdd-hdd-daily", "il-gas-hdd-only-daily"]:
        daily(s)
    billing("il-electricity-cdd-hdd-billing_monthly")
    hourly("il-electricity-cdd-hdd-hourly")
