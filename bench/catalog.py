"""The catalog benchmark behind bench/run-catalog: `GET /v1/products/?limit=100` over 1,000
products (3 prices in 3 currencies and 2 benefits each) against the axum hello-world, as a
ratio measured in the same run, and the number of statements one page costs (floe's
`--count-queries`). Standard library only; reuses bench.py's pieces."""

import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

from bench import OUT, Floe, api, wrk

PRODUCTS = 1000


def seed(floe):
    benefits = [
        api(floe.url, floe.token, "POST", "/v1/benefits/", {"type": "custom", "description": f"Perk {i}", "properties": {"note": str(i)}})
        for i in range(10)
    ]

    def one(i):
        product = api(floe.url, floe.token, "POST", "/v1/products/", {
            "name": f"Product {i:04d}", "description": "A product of the benchmark", "metadata": {"n": i},
            "prices": [
                {"amount_type": "fixed", "price_amount": 1000 + i, "price_currency": "usd"},
                {"amount_type": "fixed", "price_amount": 900 + i, "price_currency": "eur"},
                {"amount_type": "fixed", "price_amount": 800 + i, "price_currency": "gbp"},
            ],
        })
        api(floe.url, floe.token, "POST", f"/v1/products/{product['id']}/benefits",
            {"benefits": [benefits[i % 10]["id"], benefits[(i + 1) % 10]["id"]]})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(PRODUCTS)))


def statements_per_page(floe, url):
    """Restarts floe on the same data with statement counting on, and reads one page."""
    floe.process.terminate()
    floe.process.wait(timeout=30)
    env = dict(floe.env, FLOE_COUNT_QUERIES="1")
    process = subprocess.Popen([floe.bin, "serve", "--listen", "127.0.0.1:0"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if '"floe is serving"' in line:
                base = "http://" + json.loads(line)["listen"]
                break
        request = urllib.request.Request(base + url, headers={"Authorization": f"Bearer {floe.token}"})
        with urllib.request.urlopen(request) as response:
            items = json.loads(response.read())["items"]
            assert len(items) == 100 and all(len(p["prices"]) == 3 and len(p["benefits"]) == 2 for p in items)
            return int(response.headers["x-floe-queries"])
    finally:
        process.terminate()
        process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=OUT)
    results = {"database": args.database, "products": PRODUCTS}
    floe = hello = None
    try:
        floe = Floe(args.bin_dir, os.path.join(work, "floe-data"), args.database)
        started = time.perf_counter()
        seed(floe)
        results["seed_s"] = round(time.perf_counter() - started, 1)
        hello_port = 18000 + os.getpid() % 1000
        hello = subprocess.Popen([os.path.join(args.bin_dir, "hello-axum"), f"127.0.0.1:{hello_port}"])
        time.sleep(0.5)
        page = "/v1/products/?limit=100"
        auth = f"Authorization: Bearer {floe.token}"
        wrk(floe.url + page, 2, [auth])  # warm up
        hello_rps, floe_rps, floe_p99 = [], [], []
        for _ in range(args.rounds):  # interleaved, so both see the same noise
            hello_rps.append(wrk(f"http://127.0.0.1:{hello_port}/", args.duration)[0])
            rps, p99 = wrk(floe.url + page, args.duration, [auth])
            floe_rps.append(rps)
            floe_p99.append(p99)
        results["hello_rps"] = round(statistics.median(hello_rps))
        results["products_page_rps"] = round(statistics.median(floe_rps), 1)
        results["products_page_p99"] = floe_p99
        results["ratio"] = round(statistics.median(floe_rps) / statistics.median(hello_rps), 4)
        results["statements_per_page"] = statements_per_page(floe, page)
    finally:
        if hello:
            hello.terminate()
        if floe:
            floe.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    with open(os.path.join(OUT, f"catalog-{args.database}.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"GET /v1/products/?limit=100 over {PRODUCTS} products ({args.database}): {results['products_page_rps']} req/s "
          f"vs hello-world {results['hello_rps']} req/s: ratio {results['ratio']}; {results['statements_per_page']} statements a page")


if __name__ == "__main__":
    main()
