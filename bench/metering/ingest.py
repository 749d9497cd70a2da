#!/usr/bin/env python3
"""Metering ingest benchmark (stdlib + mosquitto_pub).

Creates a bench unit with 20 meters, then measures, 3 runs each, median reported:
  * HTTP JSON batches of 50,000 readings to POST /api/v1/meters/readings (one transaction each,
    committed durably before the answer, rollups recomputed inside it);
  * CSV bodies of 500,000 rows to the same endpoint;
  * MQTT end to end: readings published with mosquitto_pub -l (QoS 1, 20 meter topics in
    parallel), one reading per message (20,000) and 100 per message as a gateway sends them
    (200,000), timed until all are committed (read from the SQLite file).
Fresh timestamps each run, so every row is a real insert.
QCITY_BENCH_ONLY=json,csv,mqtt (any subset) runs only those parts; QCITY_BENCH_CSV_TS=iso sends
CSV timestamps as `2025-01-01T00:15:00+08:00` instead of epoch seconds.
Usage: ingest.py BASE_URL TOKEN SQLITE_FILE MQTT_URL
"""
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request

BASE, TOKEN, DB, MQTT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
H = {"Authorization": f"Bearer {TOKEN}"}
ONLY = set(filter(None, os.environ.get("QCITY_BENCH_ONLY", "json,csv,mqtt").split(",")))


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
T = [1_500_000_000]


def rows(n):
    per = n // len(meters)
    base = T[0]
    T[0] += per * 900
    return [(m, base + k * 900, 1.0 + (k % 7)) for m in meters for k in range(per)]


def bench(label, runs, n, make):
    rates = []
    for run in range(runs):
        body, ctype = make(rows(n))
        t = time.perf_counter()
        rep = call("POST", "/api/v1/meters/readings", body, ctype)
        dt = time.perf_counter() - t
        assert rep["accepted"] == n and rep["rejected"] == 0, rep
        rates.append(n / dt)
        print(f"  {label} run {run + 1}: {n} rows in {dt:.2f} s = {n / dt:,.0f} rows/s", flush=True)
    print(f"{label}: median {statistics.median(rates):,.0f} readings/s over {runs} runs of {n}", flush=True)


def as_json(rs):
    return json.dumps([{"meter_id": m, "ts": t, "value": v} for m, t, v in rs]).encode(), "application/json"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + 8 * 3600))


def as_csv(rs):
    fmt = iso if os.environ.get("QCITY_BENCH_CSV_TS") == "iso" else str
    return ("meter_id,timestamp,value\n" + "".join(f"{m},{fmt(t)},{v}\n" for m, t, v in rs)).encode(), "text/csv"


if "json" in ONLY:
    bench("HTTP JSON batch", 3, 50_000, as_json)
if "csv" in ONLY:
    bench("CSV backfill" + (" (ISO timestamps)" if os.environ.get("QCITY_BENCH_CSV_TS") == "iso" else ""), 3, 500_000, as_csv)

if "mqtt" not in ONLY or shutil.which("mosquitto_pub") is None or os.environ.get("QCITY_BENCH_SKIP_MQTT"):
    print("MQTT: skipped (mosquitto_pub missing or QCITY_BENCH_SKIP_MQTT set)")
    sys.exit(0)
hostport = MQTT.split("://", 1)[-1].rstrip("/")
host, port = (hostport.split(":") + ["1883"])[:2]
con = sqlite3.connect(DB)


def mqtt(per_msg, n):
    rates = []
    for run in range(3):
        before = con.execute("SELECT COUNT(*) FROM mt_readings").fetchone()[0]
        per_meter = {}
        for m, t, v in rows(n):
            per_meter.setdefault(m, []).append('{"ts":%d,"value":%s}' % (t, v))
        t0 = time.perf_counter()
        procs = []
        for m, items in per_meter.items():
            lines = "".join("[" + ",".join(items[i:i + per_msg]) + "]\n" for i in range(0, len(items), per_msg))
            p = subprocess.Popen(["mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-t",
                                  f"qcity/990100/meter/{m}/reading", "-l"], stdin=subprocess.PIPE)
            p.stdin.write(lines.encode())
            p.stdin.close()
            procs.append(p)
        for p in procs:
            p.wait()
        t_pub = time.perf_counter() - t0
        c = before
        while c < before + n and time.perf_counter() - t0 < 120:
            time.sleep(0.05)
            c = con.execute("SELECT COUNT(*) FROM mt_readings").fetchone()[0]
        dt = time.perf_counter() - t0
        rates.append((c - before) / dt)
        print(f"  MQTT {per_msg}/msg run {run + 1}: published {n} in {t_pub:.2f} s; {c - before} committed in {dt:.2f} s = {(c - before) / dt:,.0f} readings/s", flush=True)
    print(f"MQTT end to end, {per_msg} reading(s) per message: median {statistics.median(rates):,.0f} readings/s over 3 runs of {n}", flush=True)


mqtt(1, 20_000)
mqtt(100, 200_000)
