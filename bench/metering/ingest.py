#!/usr/bin/env python3
"""HTTP batch ingest benchmark for /api/v1/meters/readings (stdlib only).

Creates a bench unit with 20 meters, then posts JSON batches of 50,000 readings and CSV bodies of
500,000 rows (each one transaction, committed before the answer) and prints the median
readings/s over the runs. Fresh timestamps each run, so every row is a real insert.
"""
import json
import statistics
import sys
import time
import urllib.request

BASE, TOKEN = sys.argv[1], sys.argv[2]
H = {"Authorization": f"Bearer {TOKEN}"}


def call(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(BASE + path, data=body, method=method, headers={**H, "Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def uscc(seq):
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first = f"91990101B{seq:08d}"
    s = sum(chars.index(c) * w[i] for i, c in enumerate(first))
    return first + chars[(31 - s % 31) % 31]


unit = call("POST", "/api/v1/metering/units", json.dumps({
    "uscc": uscc(int(time.time()) % 10**8), "name_zh": "基准测试单位", "name_en": "Bench unit",
    "region_code": "990101"}).encode())
meters = [call("POST", "/api/v1/metering/meters", json.dumps({
    "unit_id": unit["id"], "level": "device", "code": f"B{i}", "name_zh": f"表{i}",
    "energy_type": "electricity"}).encode())["id"] for i in range(20)]
T0 = 1_600_000_000


def rows(run, n):
    per = n // len(meters)
    base = T0 + run * per * 900
    return [(m, base + k * 900, 1.0 + (k % 7)) for m in meters for k in range(per)]


def bench(label, runs, n, make):
    rates = []
    for run in range(runs):
        body, ctype = make(rows(run, n))
        t = time.perf_counter()
        rep = call("POST", "/api/v1/meters/readings", body, ctype)
        dt = time.perf_counter() - t
        assert rep["accepted"] == n and rep["rejected"] == 0, rep
        rates.append(n / dt)
        print(f"  {label} run {run + 1}: {n} rows in {dt:.2f} s = {n / dt:,.0f} rows/s", flush=True)
    print(f"{label}: median {statistics.median(rates):,.0f} readings/s over {runs} runs of {n}")


def as_json(rs):
    return json.dumps([{"meter_id": m, "ts": t, "value": v} for m, t, v in rs]).encode(), "application/json"


def as_csv(rs):
    return ("meter_id,timestamp,value\n" + "".join(f"{m},{t},{v}\n" for m, t, v in rs)).encode(), "text/csv"


bench("HTTP JSON batch", 5, 50_000, as_json)
T0 += 10**8
bench("CSV backfill", 3, 500_000, as_csv)
