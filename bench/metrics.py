"""The metrics benchmark behind bench/run-metrics: an organization with 1,000,000 paid
orders (two in five of them a subscription's) and 100,000 subscriptions over one year (written straight into the database by set
operations, as a year of sales cannot be made through the API in a benchmark's time), then
`GET /v1/metrics/` for that year by day, every metric, N times; reported: the p50 and p90
of those requests, and, as the baseline measured in the same run, what the database itself
takes to sum those orders once (`SELECT count(*), sum(net_amount) … GROUP BY day`), the
least a computation that reads every order must pay.

Rows written straight into the tables are marked by floe's triggers and rolled up by its
worker (docs/decisions/0023): the time it takes over the whole loaded history is reported
(`rollup_catch_up_s`), then, after one request to warm up, the requests are measured.
The same year by day in Asia/Kolkata (+5:30, periods on half hours) and with a product
filter (served from the rows, not the rollups), and the year by week, by month (also in New
York from the 15th) and by year are reported too. Standard library only."""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid

from bench import OUT, Floe, api

YEAR_SECONDS = 365 * 24 * 3600
# Requests for each of the other intervals.
OTHER_REQUESTS = 3


def sql_postgres(floe, script):
    return subprocess.run(["psql", floe.env["FLOE_DATABASE_URL"], "-qAt", "-v", "ON_ERROR_STOP=1"],
                          input=script, check=True, capture_output=True, text=True).stdout


# Rows are written as granted already, so that the grant worker has nothing to do while
# the requests are measured.
def load_postgres(floe, org, customers, products, orders, subscriptions):
    customer_list = "ARRAY[" + ",".join(f"'{c}'::uuid" for c in customers) + "]"
    one_time, monthly = products
    sql_postgres(floe, f"""
BEGIN;
INSERT INTO subscriptions (id, created_at, organization_id, customer_id, product_id, status, amount, currency,
  recurring_interval, recurring_interval_count, current_period_start, current_period_end, cancel_at_period_end,
  pause_at_period_end, anchor_day, metadata, custom_field_data, started_at, canceled_at, ended_at, ends_at,
  grants_done_at)
SELECT md5(g::text)::uuid, t, '{org}', ({customer_list})[1 + g % {len(customers)}], '{monthly}',
  CASE WHEN g % 5 = 0 THEN 'canceled' ELSE 'active' END, 900 + (g % 7) * 100, 'usd', 'month', 1,
  t, t + interval '30 days', false, false, 1, '{{}}', '{{}}', t,
  CASE WHEN g % 5 = 0 THEN t + interval '40 days' END, CASE WHEN g % 5 = 0 THEN t + interval '40 days' END,
  CASE WHEN g % 5 = 0 THEN t + interval '40 days' END, t
FROM (SELECT g, timestamptz '2025-01-01' + (random() * {YEAR_SECONDS}) * interval '1 second' AS t
      FROM generate_series(1, {subscriptions}) g) s;
INSERT INTO orders (id, created_at, organization_id, status, subtotal_amount, discount_amount, net_amount, tax_amount,
  total_amount, applied_balance_amount, refunded_amount, refunded_tax_amount, platform_fee_amount, currency,
  billing_reason, is_invoice_generated, customer_id, product_id, description, metadata, custom_field_data,
  paid_at, grants_done_at, subscription_id)
SELECT gen_random_uuid(), t, '{org}', 'paid', 1000 + g % 9000, 0, 1000 + g % 9000, 0, 1000 + g % 9000, 0, 0, 0, 0,
  'usd', 'purchase', false, ({customer_list})[1 + g % {len(customers)}],
  CASE WHEN g % 5 < 2 THEN '{monthly}'::uuid ELSE '{one_time}'::uuid END, '', '{{}}', '{{}}', t, t,
  CASE WHEN g % 5 < 2 THEN md5((1 + g % {subscriptions})::text)::uuid END
FROM (SELECT g, timestamptz '2025-01-01' + (random() * {YEAR_SECONDS}) * interval '1 second' AS t
      FROM generate_series(1, {orders}) g) s;
COMMIT;
ANALYZE;
""")


def load_sqlite(path, org, customers, products, orders, subscriptions):
    blob = lambda u: f"X'{uuid.UUID(u).hex}'"  # noqa: E731
    case = "CASE g % {n} {whens} END".format(
        n=len(customers), whens=" ".join(f"WHEN {i} THEN {blob(c)}" for i, c in enumerate(customers)))
    one_time, monthly = products
    stamp = ("printf('%s000+00:00', strftime('%Y-%m-%dT%H:%M:%f', julianday('2025-01-01') + "
             f"(abs(random()) % {YEAR_SECONDS}) / 86400.0))")
    later = "printf('%s000+00:00', strftime('%Y-%m-%dT%H:%M:%f', julianday(substr(t, 1, 23)) + 40))"
    db = sqlite3.connect(path, timeout=60)
    try:
        db.executescript(f"""
BEGIN;
WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < {subscriptions}),
 s AS (SELECT g, {stamp} AS t FROM n)
INSERT INTO subscriptions (id, created_at, organization_id, customer_id, product_id, status, amount, currency,
  recurring_interval, recurring_interval_count, current_period_start, current_period_end, cancel_at_period_end,
  pause_at_period_end, anchor_day, metadata, custom_field_data, started_at, canceled_at, ended_at, ends_at,
  grants_done_at)
SELECT randomblob(16), t, {blob(org)}, {case}, {blob(monthly)}, CASE WHEN g % 5 = 0 THEN 'canceled' ELSE 'active' END,
  900 + (g % 7) * 100, 'usd', 'month', 1, t, t, 0, 0, 1, '{{}}', '{{}}', t,
  CASE WHEN g % 5 = 0 THEN {later} END, CASE WHEN g % 5 = 0 THEN {later} END, CASE WHEN g % 5 = 0 THEN {later} END,
  t
FROM s;
WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < {orders}),
 s AS (SELECT g, {stamp} AS t FROM n)
INSERT INTO orders (id, created_at, organization_id, status, subtotal_amount, discount_amount, net_amount, tax_amount,
  total_amount, applied_balance_amount, refunded_amount, refunded_tax_amount, platform_fee_amount, currency,
  billing_reason, is_invoice_generated, customer_id, product_id, description, metadata, custom_field_data,
  paid_at, grants_done_at, subscription_id)
SELECT randomblob(16), t, {blob(org)}, 'paid', 1000 + g % 9000, 0, 1000 + g % 9000, 0, 1000 + g % 9000, 0, 0, 0, 0,
  'usd', 'purchase', 0, {case}, CASE WHEN g % 5 < 2 THEN {blob(monthly)} ELSE {blob(one_time)} END, '', '{{}}',
  '{{}}', t, t,
  CASE WHEN g % 5 < 2 THEN (SELECT id FROM subscriptions WHERE rowid = 1 + g % {subscriptions}) END
FROM s;
COMMIT;
ANALYZE;
""")
    finally:
        db.close()


def waiting(floe, database, data_dir):
    """Rows floe has yet to roll up."""
    if database == "postgres":
        return int(sql_postgres(floe, "SELECT count(*) FROM metric_dirty;").strip())
    db = sqlite3.connect(os.path.join(data_dir, "floe.db"), timeout=60)
    try:
        return db.execute("SELECT count(*) FROM metric_dirty").fetchone()[0]
    finally:
        db.close()


def baseline_ms(floe, database, data_dir, org):
    """What the database takes to sum the year's orders by day, once (median of 3)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        if database == "postgres":
            # The server's own execution time (no client start-up in it).
            plan = sql_postgres(floe, "EXPLAIN (ANALYZE) SELECT date_trunc('day', created_at), count(*), "
                                      f"sum(net_amount) FROM orders WHERE organization_id = '{org}' GROUP BY 1;")
            times.append(float(plan.rsplit("Execution Time:", 1)[1].split()[0]))
            continue
        else:
            db = sqlite3.connect(os.path.join(data_dir, "floe.db"))
            db.execute(f"SELECT substr(created_at, 1, 10), count(*), sum(net_amount) FROM orders "
                       f"WHERE organization_id = X'{uuid.UUID(org).hex}' GROUP BY 1").fetchall()
            db.close()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--keep", action="store_true",
                        help="keep the data (and the PostgreSQL database) to rerun requests against it")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=OUT)
    data_dir = os.path.join(work, "floe-data")
    results = {"database": args.database, "orders": args.orders, "subscriptions": args.subscriptions}
    floe = None
    try:
        floe = Floe(args.bin_dir, data_dir, args.database)
        org = api(floe.url, floe.token, "GET", "/v1/organizations/")["items"][0]["id"]
        customers = [api(floe.url, floe.token, "POST", "/v1/customers/", {"email": f"m{i}@example.com"})["id"]
                     for i in range(50)]
        products = [
            api(floe.url, floe.token, "POST", "/v1/products/", {
                "name": "Pack", "prices": [{"amount_type": "fixed", "price_amount": 1000}]})["id"],
            api(floe.url, floe.token, "POST", "/v1/products/", {
                "name": "Monthly", "recurring_interval": "month",
                "prices": [{"amount_type": "fixed", "price_amount": 900}]})["id"],
        ]
        started = time.perf_counter()
        if args.database == "postgres":
            load_postgres(floe, org, customers, products, args.orders, args.subscriptions)
        else:
            load_sqlite(os.path.join(data_dir, "floe.db"), org, customers, products, args.orders, args.subscriptions)
        results["load_seconds"] = round(time.perf_counter() - started, 1)
        def measure(query, times):
            latencies, body = [], None
            for _ in range(times):
                request = urllib.request.Request(f"{floe.url}/v1/metrics/?{query}",
                                                 headers={"Authorization": f"Bearer {floe.token}"})
                began = time.perf_counter()
                with urllib.request.urlopen(request, timeout=1800) as response:
                    raw = response.read()
                # Until the last byte is in: parsing the answer is the client's work.
                latencies.append((time.perf_counter() - began) * 1000)
                body = json.loads(raw)
            return sorted(latencies), body

        year = "start_date=2025-01-01&end_date=2025-12-31&interval=day"
        # floe's worker rolls the loaded rows up (requests meanwhile read rows).
        started = time.perf_counter()
        while waiting(floe, args.database, data_dir) > 0:
            time.sleep(0.5)
        results["rollup_catch_up_s"] = round(time.perf_counter() - started, 1)
        if args.database == "postgres":
            # floe vacuums its rollup tables after a large catch-up: measured after that.
            for _ in range(600):
                if sql_postgres(floe, "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                      "WHERE relname = 'metric_dispute_facts';").strip() == "t":
                    break
                time.sleep(0.5)
            results["rollup_tidy_s"] = round(time.perf_counter() - started - results["rollup_catch_up_s"], 1)
        measure(year + "&timezone=UTC", 1)  # warms the caches
        latencies, body = measure(year + "&timezone=UTC", args.requests)
        kolkata, kolkata_body = measure(year + "&timezone=Asia/Kolkata", args.requests)
        results["p50_kolkata_ms"] = round(statistics.median(kolkata), 1)
        # Filtered by product (the monthly one: 40 % of the orders) and by billing type.
        filtered, filtered_body = measure(year + f"&timezone=UTC&product_id={products[1]}", OTHER_REQUESTS)
        results["product_filter_p50_ms"] = round(statistics.median(filtered), 1)
        assert filtered_body["totals"]["orders"] == args.orders * 2 // 5, filtered_body["totals"]["orders"]
        typed, typed_body = measure(year + "&timezone=UTC&billing_type=one_time", OTHER_REQUESTS)
        results["billing_type_filter_p50_ms"] = round(statistics.median(typed), 1)
        assert typed_body["totals"]["orders"] == args.orders * 3 // 5, typed_body["totals"]["orders"]
        # The other intervals (renewals decided by the calendar), one with a first period that
        # starts before its start date (counted through the previous-order index).
        others = {
            "year_by_week": "start_date=2025-01-01&end_date=2025-12-31&interval=week&timezone=UTC",
            "year_by_month": "start_date=2025-01-01&end_date=2025-12-31&interval=month&timezone=UTC",
            "year_by_month_new_york_from_15th": "start_date=2025-01-15&end_date=2025-12-31&interval=month"
                                                "&timezone=America/New_York",
            "by_year": "start_date=2025-01-01&end_date=2025-12-31&interval=year&timezone=UTC",
        }
        results["other_intervals_p50_ms"] = {}
        for name, query in others.items():
            times, other_body = measure(query, OTHER_REQUESTS)
            results["other_intervals_p50_ms"][name] = round(statistics.median(times), 1)
            assert other_body["totals"]["orders"] > 0
        assert len(body["periods"]) == 365 and body["totals"]["orders"] == args.orders, body["totals"]["orders"]
        latencies.sort()
        results["p50_ms"] = round(statistics.median(latencies), 1)
        results["p90_ms"] = round(latencies[int(0.9 * (len(latencies) - 1))], 1)
        results["baseline_db_sum_by_day_ms"] = round(baseline_ms(floe, args.database, data_dir, org), 1)
        results["ratio_p50_to_baseline"] = round(results["p50_ms"] / results["baseline_db_sum_by_day_ms"], 2)
        results["target_p50_ms"] = 100
        # floe's own account of the last request (its log is complete once it stopped).
        database_url = floe.env.get("FLOE_DATABASE_URL")
        floe.stop(keep_database=args.keep)
        floe = None
        if args.keep:
            results["kept"] = {"data_dir": data_dir, "database_url": database_url}
        found, passes = [], []
        for _ in range(50):
            with open(os.path.join(data_dir, "serve.log")) as log:
                lines = [json.loads(line) for line in log if line.startswith("{")]
            found = [line for line in lines if line.get("fields", line).get("message") == "metrics computed"]
            passes = [line for line in lines if line.get("fields", line).get("message") == "metric rollup pass"]
            if len(found) == 2 * args.requests + 1 + 6 * OTHER_REQUESTS:
                break
            time.sleep(0.1)
        if found:
            # The last UTC request (the ones after it are Kolkata's and the filtered one).
            fields = [line.get("fields", line) for line in found]
            last = fields[args.requests]
            results["floe_load_ms"] = round(last["load_ms"], 1)
            results["floe_compute_ms"] = round(last["compute_ms"], 1)
            results["from_rollups"] = last.get("from_rollups")
            results["floe_phases_utc"] = last.get("phases_ms")
            results["floe_phases_kolkata"] = fields[2 * args.requests].get("phases_ms")
            results["floe_phases_product"] = fields[2 * args.requests + 1].get("phases_ms")
            # Every request after the warm-up, filtered ones included, read the rollups.
            results["all_from_rollups"] = all(f.get("from_rollups") for f in fields[1:])
        if passes:
            # With FLOE_BENCH_LOG=warn,floe=info,floe::metrics::rollups=debug: where rolling
            # up spent its time, summed over every pass.
            totals = {}
            for line in passes:
                for part in line.get("fields", line)["phases_ms"].split():
                    name, ms = part.split("=")
                    totals[name] = totals.get(name, 0) + float(ms) / 1000
            results["rollup_passes"] = len(passes)
            results["rollup_phases_s"] = {name: round(s, 1) for name, s in totals.items()}
        print(json.dumps(results, indent=2))
    except Exception:
        # What floe said about it, before its data goes.
        log = os.path.join(data_dir, "serve.log")
        if os.path.exists(log):
            with open(log) as f:
                print("".join(line for line in f if '"ERROR"' in line or '"WARN"' in line)[-4000:])
        raise
    finally:
        if floe:
            floe.stop(keep_database=args.keep)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
