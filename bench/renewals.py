"""The renewal benchmark behind bench/run-renewals: N monthly subscriptions (10,000 by
default) are sold through checkouts on the test processor, all within a few minutes, then
the organization's test clock moves past their period end in one step, so that all of them
fall due at once; floe renews them (new period, `subscription_cycle` order, off-session
charge of the saved card, webhooks' outbox rows and system events). Reported: renewals a
second, floe's resident memory before and at its peak, and, as the baseline measured in the
same run on the same server, the rate at which it sold those subscriptions (a confirmation
writes about as much as a renewal: customer, order, payment, events), so that the ratio
says how a renewal compares with a sale on this machine. Standard library only."""

import argparse
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta

from bench import OUT, Floe, api
from checkout import CLIENTS, postgres_cpu, process_cpu

import http.client
import urllib.parse


def sell(base, token, product_id, count, queue):
    """Sells `count` subscriptions on one keep-alive connection."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    confirm = json.dumps({"confirmation_token_id": "pm_card_visa"})
    for i in range(count):
        create = json.dumps({"products": [product_id], "customer_email": f"r{os.getpid()}-{i}@example.com",
                             "customer_billing_address": {"country": "FR"}})
        connection.request("POST", "/v1/checkouts/", body=create, headers=auth)
        response = connection.getresponse()
        secret = json.loads(response.read())["client_secret"]
        connection.request("POST", f"/v1/checkouts/client/{secret}/confirm", body=confirm,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"confirm answered {response.status}")
    queue.put(count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=OUT)
    results = {"database": args.database, "subscriptions": args.subscriptions}
    floe = None
    try:
        floe = Floe(args.bin_dir, os.path.join(work, "floe-data"), args.database)
        product = api(floe.url, floe.token, "POST", "/v1/products/", {
            "name": "Bench monthly", "recurring_interval": "month",
            "prices": [{"amount_type": "fixed", "price_amount": 1900}]})
        queue = multiprocessing.Queue()
        share = args.subscriptions // CLIENTS
        workers = [multiprocessing.Process(target=sell, args=(floe.url, floe.token, product["id"],
                                                              share + (1 if i < args.subscriptions % CLIENTS else 0),
                                                              queue))
                   for i in range(CLIENTS)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        sold = sum(queue.get() for _ in workers)
        for worker in workers:
            worker.join()
        selling = time.perf_counter() - started
        results["sales_per_s"] = round(sold / selling, 1)
        results["rss_before_mib"] = round(floe.rss_mib(), 1)
        peak_before = floe.peak_rss_mib()

        # Past every period's end (a month and a day), in one step.
        latest = api(floe.url, floe.token, "GET", "/v1/subscriptions/?limit=1&sorting=-current_period_end")
        end = datetime.fromisoformat(latest["items"][0]["current_period_end"].replace("Z", "+00:00"))
        target = (end + timedelta(minutes=1)).isoformat()
        cpu_before = (process_cpu(floe.process.pid), postgres_cpu())
        started = time.perf_counter()
        api(floe.url, floe.token, "POST", "/v1/test-clock/advance", {"to": target})
        renewing = time.perf_counter() - started
        cpu_after = (process_cpu(floe.process.pid), postgres_cpu())
        cycles = api(floe.url, floe.token, "GET", "/v1/orders/?limit=1&status=paid")["pagination"]["total_count"]
        renewed = cycles - sold
        if renewed != sold:
            raise RuntimeError(f"{renewed} renewals for {sold} subscriptions")
        results["renewals"] = renewed
        results["renewals_per_s"] = round(renewed / renewing, 1)
        results["ratio_to_sales"] = round(results["renewals_per_s"] / results["sales_per_s"], 3)
        results["cpu_ms_per_renewal"] = {
            "floe": round((cpu_after[0] - cpu_before[0]) * 1000 / renewed, 2),
            "postgres": round((cpu_after[1] - cpu_before[1]) * 1000 / renewed, 2)
            if args.database == "postgres" else None,
        }
        results["rss_after_mib"] = round(floe.rss_mib(), 1)
        results["peak_rss_mib"] = round(floe.peak_rss_mib(), 1)
        results["peak_rss_before_renewals_mib"] = round(peak_before, 1)
    finally:
        if floe:
            floe.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    with open(os.path.join(OUT, f"renewals-{args.database}.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"renewals ({args.database}): {results['renewals']} due at once renewed at {results['renewals_per_s']}/s "
          f"(sales of the same subscriptions: {results['sales_per_s']}/s, ratio {results['ratio_to_sales']}); "
          f"floe RSS {results['rss_before_mib']} MiB before, peak {results['peak_rss_mib']} MiB")


if __name__ == "__main__":
    main()
