"""Run ProMCDA 1.0.8's Monte Carlo robustness analysis on all weights for the ASEM
indicator matrix prepared by `promcda_peer prepare DIR`, and time it.

Usage: promcda_bench.py DIR N

ProMCDA samples N sets of 49 weights from U(0, 1), normalises the indicators with
min-max, aggregates them by the weighted sum for every weight set (in a
multiprocessing pool over all cores), and writes the mean and std of the scores.
Figures (PNG via plotly) are switched off: qcity draws none either, and they would time
the image export rather than the analysis.
"""

import json
import sys
import time


def main() -> None:
    out_dir, n = sys.argv[1], int(sys.argv[2])
    import logging

    import mcda.mcda_run as run_mod

    logging.disable(logging.INFO)
    run_mod.save_figure = lambda *a, **k: None
    for name in dir(run_mod):
        if name.startswith("plot_"):
            setattr(run_mod, name, lambda *a, **k: None)

    polarity = open(f"{out_dir}/polarity.txt").read().strip().split(",")
    k = len(polarity)
    config = {
        "input_matrix_path": f"{out_dir}/matrix.csv",
        "polarity_for_each_indicator": polarity,
        "sensitivity": {"sensitivity_on": "no", "normalization": "minmax", "aggregation": "weighted_sum"},
        "robustness": {
            "robustness_on": "yes",
            "on_single_weights": "no",
            "on_all_weights": "yes",
            "given_weights": [1.0] * k,
            "on_indicators": "no",
        },
        "monte_carlo_sampling": {
            "monte_carlo_runs": n,
            "num_cores": 2,
            "marginal_distribution_for_each_indicator": ["exact"] * k,
        },
        "output_path": f"{out_dir}/promcda_out",
    }
    t = time.perf_counter()
    run_mod.main(config, user_input_callback=lambda _: "c")
    seconds = time.perf_counter() - t

    # agreement: ProMCDA's mean score ranking vs qcity's mean rank (Spearman)
    import glob

    import pandas as pd

    means = pd.read_csv(glob.glob(f"{out_dir}/promcda_out/*score_means.csv")[0])
    score_col = [c for c in means.columns if c not in ("Alternatives", "Unnamed: 0")][0]
    promcda_rank = means.set_index("Alternatives")[score_col].rank(ascending=False)
    q = json.load(open(f"{out_dir}/qcity_rank_stats.json"))
    qcity_rank = pd.Series({r["uCode"]: r["mean_rank"] for r in q["rank_stats"]})
    rho = promcda_rank.corr(qcity_rank.reindex(promcda_rank.index), method="spearman")
    print(json.dumps({"promcda_seconds": seconds, "score_column": score_col, "spearman_mean_ranks": rho}))


if __name__ == "__main__":
    main()
