"""The sale benchmark behind bench/run-checkout: buyers create a checkout and confirm it
with Stripe's test Visa on the built-in test processor (each confirmation records the
customer, the payment, the paid order and the webhook outbox rows in one transaction),
from several client processes at once. Reported: confirmations a second, the p50/p95 of a
confirmation's latency, and the ratio to the same client loop against the axum
hello-world measured in the same run (so the ceiling of this machine and of this Python
client is in the denominator). Standard library only; reuses bench.py's pieces."""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse

from bench import OUT, Floe, api

CLIENTS = 8


def confirm_loop(base, token, product_id, seconds, queue):
    """One buyer after another on one keep-alive connection: create, then confirm."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    confirm = json.dumps({"confirmation_token_id": "pm_card_visa"})
    latencies, failures = [], 0
    deadline = time.perf_counter() + seconds
    buyer = 0
    while time.perf_counter() < deadline:
        # A new buyer each time, as in a shop: one customer's checkouts would queue on its row.
        buyer += 1
        create = json.dumps({"products": [product_id], "customer_email": f"b{os.getpid()}-{buyer}@example.com",
                             "customer_billing_address": {"country": "FR"}})
        connection.request("POST", "/v1/checkouts/", body=create, headers=auth)
        response = connection.getresponse()
        body = response.read()
        if response.status != 201:
            failures += 1
            continue
        secret = json.loads(body)["client_secret"]
        started = time.perf_counter()
        connection.request("POST", f"/v1/checkouts/client/{secret}/confirm", body=confirm,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failures += 1
            continue
        latencies.append(time.perf_counter() - started)
    queue.put((latencies, failures))


def hello_loop(base, _token, _product, seconds, queue):
    """The same loop shape (two requests an iteration) against the hello-world."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("GET", "/")
        connection.getresponse().read()
        started = time.perf_counter()
        connection.request("GET", "/")
        connection.getresponse().read()
        latencies.append(time.perf_counter() - started)
    queue.put((latencies, 0))


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    """CPU seconds (user + system) a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu():
    """CPU seconds of every PostgreSQL process now alive (the server and its backends)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        total += process_cpu(entry)
            except OSError:
                pass
    return total


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def run(loop, base, token, product_id, seconds):
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=loop, args=(base, token, product_id, seconds, queue))
               for _ in range(CLIENTS)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for got, _ in results for x in got)
    failures = sum(f for _, f in results)
    if failures:
        raise RuntimeError(f"{failures} failed requests")
    rate = len(latencies) / elapsed
    p50 = latencies[len(latencies) // 2] * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    return rate, p50, p95, len(latencies)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=OUT)
    results = {"database": args.database, "clients": CLIENTS}
    floe = hello = None
    try:
        floe = Floe(args.bin_dir, os.path.join(work, "floe-data"), args.database)
        product = api(floe.url, floe.token, "POST", "/v1/products/", {
            "name": "Bench plan", "prices": [{"amount_type": "fixed", "price_amount": 1900}]})
        hello_port = 18000 + os.getpid() % 1000
        hello = subprocess.Popen([os.path.join(args.bin_dir, "hello-axum"), f"127.0.0.1:{hello_port}"])
        time.sleep(0.5)
        hello_url = f"http://127.0.0.1:{hello_port}"
        run(confirm_loop, floe.url, floe.token, product["id"], 2)  # warm up
        rounds = {"hello": [], "floe": []}
        # Where the CPU goes during the floe rounds: floe, the database, and the rest (the
        # Python clients), to tell what bounds the rate on this 2-core machine.
        spent = {"floe": 0.0, "postgres": 0.0, "busy": 0.0, "total": 0.0}
        for _ in range(args.rounds):  # interleaved, so both see the same noise
            rounds["hello"].append(run(hello_loop, hello_url, None, None, args.duration))
            before = (process_cpu(floe.process.pid), postgres_cpu(), *machine_cpu())
            rounds["floe"].append(run(confirm_loop, floe.url, floe.token, product["id"], args.duration))
            after = (process_cpu(floe.process.pid), postgres_cpu(), *machine_cpu())
            for key, b, a in zip(("floe", "postgres", "busy", "total"), before, after):
                spent[key] += a - b
        median = lambda runs, i: statistics.median(r[i] for r in runs)  # noqa: E731
        results["hello_iterations_per_s"] = round(median(rounds["hello"], 0), 1)
        results["confirms_per_s"] = round(median(rounds["floe"], 0), 1)
        results["confirm_p50_ms"] = round(median(rounds["floe"], 1), 2)
        results["confirm_p95_ms"] = round(median(rounds["floe"], 2), 2)
        results["confirms_measured"] = sum(r[3] for r in rounds["floe"])
        results["ratio"] = round(results["confirms_per_s"] / results["hello_iterations_per_s"], 4)
        sales = results["confirms_measured"]
        results["cpu_ms_per_sale"] = {
            "floe": round(spent["floe"] * 1000 / sales, 2),
            "postgres": round(spent["postgres"] * 1000 / sales, 2) if args.database == "postgres" else None,
            "everything": round(spent["busy"] * 1000 / sales, 2),
        }
        results["machine_busy"] = round(spent["busy"] / spent["total"], 3)
        orders = api(floe.url, floe.token, "GET", "/v1/orders/?limit=1")["pagination"]["total_count"]
        results["paid_orders"] = orders
    finally:
        if hello:
            hello.terminate()
        if floe:
            floe.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    with open(os.path.join(OUT, f"checkout-{args.database}.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"checkout create + confirm ({args.database}, {CLIENTS} clients): {results['confirms_per_s']} confirms/s, "
          f"p95 {results['confirm_p95_ms']} ms, vs the same client loop on hello-world "
          f"{results['hello_iterations_per_s']}/s: ratio {results['ratio']}; CPU per sale {results['cpu_ms_per_sale']} ms, "
          f"machine {results['machine_busy']:.0%} busy")


if __name__ == "__main__":
    main()
