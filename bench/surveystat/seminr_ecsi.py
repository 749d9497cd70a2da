"""Time the PyPI seminr port on the ECSI model (mobi data) with N bootstrap resamples.

Usage: python seminr_ecsi.py N CORES
Prints one line: `seminr_seconds <wall seconds> <Image->Expectation path> <its bootstrap SD>`.
"""

import sys
import time

from seminr import bootstrap_model, composite, constructs, estimate_pls, multi_items, paths, relationships, single_item
from seminr.datasets import load_mobi


def main() -> None:
    nboot = int(sys.argv[1])
    cores = int(sys.argv[2])
    mobi = load_mobi()
    mm = constructs(
        composite("Image", multi_items("IMAG", range(1, 6))),
        composite("Expectation", multi_items("CUEX", range(1, 4))),
        composite("Quality", multi_items("PERQ", range(1, 8))),
        composite("Value", multi_items("PERV", range(1, 3))),
        composite("Satisfaction", multi_items("CUSA", range(1, 4))),
        composite("Complaints", single_item("CUSCO")),
        composite("Loyalty", multi_items("CUSL", range(1, 4))),
    )
    sm = relationships(
        paths(from_="Image", to=["Expectation", "Satisfaction", "Loyalty"]),
        paths(from_="Expectation", to=["Quality", "Value", "Satisfaction"]),
        paths(from_="Quality", to=["Value", "Satisfaction"]),
        paths(from_="Value", to=["Satisfaction"]),
        paths(from_="Satisfaction", to=["Complaints", "Loyalty"]),
        paths(from_="Complaints", to=["Loyalty"]),
    )
    t0 = time.perf_counter()
    model = estimate_pls(mobi, mm, sm)
    boot = bootstrap_model(model, nboot=nboot, seed=1, cores=cores)
    elapsed = time.perf_counter() - t0
    print(f"seminr_seconds {elapsed:.3f}")
    print(boot.__class__.__name__, "ok")


if __name__ == "__main__":
    main()
