"""Meter quantities over many stored events: a 31-day daily series for one customer and one
meter (Europe/Paris), p50 of repeated requests, after loading 1M events and then (with
--events 10000000) 10M. Beside it, in the same run: a plain GET of the meter (a single-row
read through the same stack) as the baseline, and the same series computed from the events
by a second floe on the same database (FLOE_METER_READS_FROM_EVENTS), to show what the
rollups save. Also floe's peak memory while ingesting, and how long creating a meter takes
when its rollups are built from every stored event. Standard library only.

usage: python3 bench/quantities.py --bin target/release/floe [--events 1000000] [--database sqlite]"""

import argparse
import datetime
import http.client
import json
import os
import random
import sqlite3
import subprocess
import statistics
import threading
import time
import urllib.parse

from webhooks import Floe

CUSTOMERS = 100
DAYS = 90


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def batch_body(index, total, now, size=1000):
    """Batch `index` of a load of `total` events spread over the last DAYS days in the order
    they happened, as a live product sends them (each within half an hour of its place)."""
    rng = random.Random(index)
    span = DAYS * 86400
    events = []
    for j in range(size):
        place = (index * size + j) / total
        at = now - datetime.timedelta(seconds=span * (1 - place) + rng.uniform(-1800, 1800))
        events.append({
            "name": "llm.call",
            "external_customer_id": f"customer-{rng.randrange(CUSTOMERS)}",
            "timestamp": min(at, now - datetime.timedelta(seconds=1)).isoformat(),
            "metadata": {"model": "gpt-4o", "tokens": rng.randrange(1, 4000), "route": "/v1/chat"},
        })
    return json.dumps({"events": events}).encode()


def load(floe, first_batch, last_batch, total, now, clients=2):
    """Sends batches [first_batch, last_batch) from `clients` connections."""
    next_batch = [first_batch]
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(floe.host, floe.port, timeout=120)
        while True:
            with lock:
                index = next_batch[0]
                if index >= last_batch:
                    return
                next_batch[0] += 1
            connection.request("POST", "/v1/events/ingest", body=batch_body(index, total, now), headers=floe.headers)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, body

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (last_batch - first_batch) * 1000 / (time.time() - started)


def rollups_ready(floe, meter_id):
    if floe.pg_db:
        out = subprocess.run(["psql", floe.env["FLOE_DATABASE_URL"], "-Atc",
                              f"SELECT rollups_ready FROM meters WHERE id = '{meter_id}'"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return out == "t"
    with sqlite3.connect(os.path.join(floe.data_dir, "floe.db")) as db:
        row = db.execute("SELECT rollups_ready FROM meters WHERE hex(id) = ?",
                         (meter_id.replace("-", "").upper(),)).fetchone()
        return bool(row and row[0])


def p50(floe, path, params, runs=30):
    connection = http.client.HTTPConnection(floe.host, floe.port, timeout=300)
    url = path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    times = []
    body = None
    for _ in range(runs):
        started = time.perf_counter()
        connection.request("GET", url, headers=floe.headers)
        response = connection.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, body
    return statistics.median(times), json.loads(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    floe = Floe(args.bin, args.database)
    try:
        floe.start()
        connection = http.client.HTTPConnection(floe.host, floe.port)
        connection.request("POST", "/v1/meters", body=json.dumps({
            "name": "tokens", "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "llm.call"}]},
            "aggregation": {"func": "sum", "property": "tokens"},
        }), headers=floe.headers)
        response = connection.getresponse()
        meter = json.loads(response.read())
        assert response.status == 201, meter
        params = {
            "start_timestamp": (now - datetime.timedelta(days=31)).isoformat(), "end_timestamp": now.isoformat(),
            "interval": "day", "timezone": "Europe/Paris", "external_customer_id": "customer-7",
        }
        loaded = 0
        for checkpoint in [c for c in (1_000_000, 10_000_000) if c <= args.events]:
            # Over 1M events the first checkpoint's events cover the whole span too.
            rate = load(floe, loaded // 1000, checkpoint // 1000, checkpoint, now)
            loaded = checkpoint
            rss = peak_rss_mib(floe.server.pid)
            baseline, _ = p50(floe, f"/v1/meters/{meter['id']}", None)
            fast, fast_body = p50(floe, f"/v1/meters/{meter['id']}/quantities", params)
            reference = floe.twin(FLOE_METER_READS_FROM_EVENTS="1")
            reference.start()
            slow, slow_body = p50(reference, f"/v1/meters/{meter['id']}/quantities", params, runs=5)
            reference.stop()
            same = [q["quantity"] for q in fast_body["quantities"]] == [q["quantity"] for q in slow_body["quantities"]]
            rss = f"{rss:.0f} MiB"
            if checkpoint != 1_000_000:
                print(f"quantities, {args.database}, {loaded:,} events: 31-day daily series for one customer p50 {fast:.1f} ms "
                      f"(target 20 ms); GET of the meter {baseline:.1f} ms (ratio {fast / baseline:.1f}); "
                      f"from the events {slow:.1f} ms; same answer: {same}; loaded at {rate:,.0f} events/s; "
                      f"floe peak RSS {rss}", flush=True)
                continue
            # A meter created now has its rollups built from every stored event (once, at 1M).
            started = time.perf_counter()
            connection = http.client.HTTPConnection(floe.host, floe.port, timeout=600)
            connection.request("POST", "/v1/meters", body=json.dumps({
                "name": f"late {loaded}", "filter": {"conjunction": "and", "clauses": []},
                "aggregation": {"func": "count"},
            }), headers=floe.headers)
            late = connection.getresponse()
            late_meter = json.loads(late.read())
            answered = time.perf_counter() - started
            # Its rollups are built in the background; floe's database says when they are.
            while not rollups_ready(floe, late_meter["id"]):
                time.sleep(0.5)
            rebuild = (f"{answered:.2f} s (HTTP {late.status}), its rollups built in "
                       f"{time.perf_counter() - started:.0f} s, peak RSS after it "
                       f"{peak_rss_mib(floe.server.pid):.0f} MiB")
            print(f"quantities, {args.database}, {loaded:,} events: 31-day daily series for one customer p50 {fast:.1f} ms "
                  f"(target 20 ms); GET of the meter {baseline:.1f} ms (ratio {fast / baseline:.1f}); "
                  f"from the events {slow:.1f} ms; same answer: {same}; loaded at {rate:,.0f} events/s; "
                  f"floe peak RSS {rss}; creating a meter over them took {rebuild}", flush=True)
    finally:
        floe.close()


if __name__ == "__main__":
    main()
