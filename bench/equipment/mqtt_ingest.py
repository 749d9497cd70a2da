#!/usr/bin/env python3
"""MQTT alarm ingest rate: publishes N non-trapping alarm frames (code 05, one per elevator, so
every frame is recorded but none opens an incident) with mosquitto_pub -l, and times until the
server has recorded them all (reads the SQLite file). Prints messages per second.
Usage: mqtt_ingest.py DB_FILE HOST:PORT N"""
import sqlite3, subprocess, sys, time

db, hostport, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = (hostport.split(":") + ["1883"])[:2]
con = sqlite3.connect(db)
before = con.execute("SELECT COUNT(*) FROM eq_iot_alarms").fetchone()[0]
# One topic per process invocation of mosquitto_pub -l; spread over 20 elevators' topics.
procs = []
t0 = time.time()
per = n // 20
for k in range(20):
    rescue = 110001 + k
    lines = "".join('{"alarm_code":"05","device_id":"bench-%d-%d"}\n' % (k, i) for i in range(per))
    p = subprocess.Popen(["mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-t",
                          "qcity/990100/elevator/%d/alarm" % rescue, "-l"], stdin=subprocess.PIPE)
    p.stdin.write(lines.encode()); p.stdin.close(); procs.append(p)
for p in procs:
    p.wait()
t_pub = time.time() - t0
target = before + per * 20
while True:
    c = con.execute("SELECT COUNT(*) FROM eq_iot_alarms").fetchone()[0]
    if c >= target or time.time() - t0 > 600:
        break
    time.sleep(0.2)
dt = time.time() - t0
print("published %d frames in %.1f s; ingested %d in %.1f s: %.0f msg/s (target >= 5000)"
      % (per * 20, t_pub, c - before, dt, (c - before) / dt))
