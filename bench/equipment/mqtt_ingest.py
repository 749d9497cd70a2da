#!/usr/bin/env python3
"""MQTT alarm ingest rate, end to end: publishes N non-trapping alarm frames (code 05, spread
over 20 elevators' topics, so every frame is recorded but none opens an incident) with
mosquitto_pub -l at QoS 1, 20 publishers in parallel, and times from the first publish until
the server has committed them all (reads the SQLite file). Repeats RUNS times and prints each
rate and the median. Usage: mqtt_ingest.py DB_FILE HOST:PORT N [RUNS]"""
import sqlite3
import statistics
import subprocess
import sys
import time

db, hostport, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
host, port = (hostport.split(":") + ["1883"])[:2]
con = sqlite3.connect(db, timeout=60)


def count():
    return con.execute("SELECT COUNT(*) FROM eq_iot_alarms").fetchone()[0]


rates = []
for run in range(runs):
    before = count()
    per = n // 20
    t0 = time.time()
    procs = []
    for k in range(20):
        rescue = 110001 + k
        lines = "".join('{"alarm_code":"05","device_id":"bench-%d-%d-%d"}\n' % (run, k, i) for i in range(per))
        p = subprocess.Popen(["mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-i", "bench-pub-%d-%d" % (run, k),
                              "-t", "qcity/990100/elevator/%d/alarm" % rescue, "-l"], stdin=subprocess.PIPE)
        p.stdin.write(lines.encode())
        p.stdin.close()
        procs.append(p)
    for p in procs:
        p.wait()
    t_pub = time.time() - t0
    target = before + per * 20
    c = before
    while True:
        c = count()
        if c >= target or time.time() - t0 > 300:
            break
        time.sleep(0.05)
    dt = time.time() - t0
    rate = (c - before) / dt
    rates.append(rate)
    print("run %d: published %d frames in %.2f s; committed %d in %.2f s: %.0f msg/s"
          % (run + 1, per * 20, t_pub, c - before, dt, rate), flush=True)
    time.sleep(1)
print("MQTT ingest median: %.0f msg/s over %d runs (target >= 5000)" % (statistics.median(rates), runs))
