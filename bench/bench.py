"""The benchmark driver behind bench/run. Standard library only."""

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

MIB = 1024 * 1024
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
POSTGRES = os.environ.get("FLOE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def api(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=600) as response:
        text = response.read()
        return json.loads(text) if text else None


def put(url, body, headers):
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    connection.request("PUT", f"{parsed.path}?{parsed.query}", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"part PUT failed: {response.status}")
    return response.getheader("ETag")


class Floe:
    def __init__(self, bin_dir, data_dir, database):
        self.bin = os.path.join(bin_dir, "floe")
        self.env = dict(os.environ, FLOE_DATA_DIR=data_dir, FLOE_LOG_JSON="1", RUST_LOG=os.environ.get("FLOE_BENCH_LOG", "warn,floe=info"))
        self.pg_db = None
        if database == "postgres":
            self.pg_db = f"floe_bench_{uuid.uuid4().hex}"
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {self.pg_db}"], check=True)
            self.env["FLOE_DATABASE_URL"] = f"{POSTGRES}/{self.pg_db}"
        # Request logs are part of what a request costs; keep them, but off the terminal.
        os.makedirs(data_dir, exist_ok=True)
        self.log = open(os.path.join(data_dir, "serve.log"), "w")
        self.process = subprocess.Popen(
            [self.bin, "serve", "--listen", "127.0.0.1:0"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for line in self.process.stderr:
            if '"floe is serving"' in line:
                self.url = "http://" + json.loads(line)["listen"]
                break
        threading.Thread(target=lambda: shutil.copyfileobj(self.process.stderr, self.log), daemon=True).start()
        slug = "bench-" + uuid.uuid4().hex[:8]
        self.cli("organization", "create", "--name", "Bench", "--slug", slug)
        self.token = self.cli("token", "create", "--organization", slug).strip().splitlines()[-1]

    def cli(self, *args):
        return subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) / 1024

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024

    def stop(self, keep_database=False):
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.pg_db and not keep_database:
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)"], check=False)


def dd_seconds(directory, size_mib):
    target = os.path.join(directory, "dd.bin")
    started = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size_mib}", "conv=fdatasync"], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    os.remove(target)
    return elapsed


def upload(floe, data, parts_count, parallel):
    size = len(data)
    part_size = -(-size // parts_count)
    parts = [
        {"number": i + 1, "chunk_start": i * part_size, "chunk_end": min((i + 1) * part_size, size)} for i in range(parts_count)
    ]
    t0 = time.perf_counter()
    created = api(floe.url, floe.token, "POST", "/v1/files/", {
        "service": "downloadable", "name": "bench.bin", "mime_type": "application/octet-stream", "size": size, "upload": {"parts": parts},
    })
    t1 = time.perf_counter()
    view = memoryview(data)
    etags = {}
    queue = list(created["upload"]["parts"])
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                part = queue.pop(0)
            etags[part["number"]] = put(part["url"], view[part["chunk_start"]:part["chunk_end"]], part["headers"])

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    t2 = time.perf_counter()
    file = api(floe.url, floe.token, "POST", f"/v1/files/{created['id']}/uploaded", {
        "id": created["upload"]["id"], "path": created["upload"]["path"],
        "parts": [{"number": n, "checksum_etag": e, "checksum_sha256_base64": None} for n, e in sorted(etags.items())],
    })
    t3 = time.perf_counter()
    assert file["is_uploaded"], file
    return file, {"create_s": t1 - t0, "puts_s": t2 - t1, "complete_s": t3 - t2, "total_s": t3 - t0}


def verify_download(floe, file, expected_sha256):
    info = api(floe.url, floe.token, "GET", f"/v1/files/{file['id']}/download")
    digest = hashlib.sha256()
    with urllib.request.urlopen(info["download"]["url"], timeout=600) as response:
        while chunk := response.read(4 * MIB):
            digest.update(chunk)
    if digest.hexdigest() != expected_sha256:
        raise RuntimeError("downloaded bytes differ from the uploaded ones")


def wrk(url, duration, headers=()):
    args = ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    output = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{non_2xx.group(1)} failed requests against {url}")
    p99 = re.search(r"99%\s+([\d.]+\w+)", output).group(1)
    return rps, p99


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=OUT)
    results = {"database": args.database, "size_mib": args.size_mib, "parts": args.parts, "parallel": args.parallel}
    floe = None
    hello = None
    try:
        print(f"generating {args.size_mib} MiB of random data")
        data = os.urandom(args.size_mib * MIB)
        expected = hashlib.sha256(data).hexdigest()

        floe = Floe(args.bin_dir, os.path.join(work, "floe-data"), args.database)
        results["rss_idle_mib"] = round(floe.rss_mib(), 1)
        # Rounds of (dd, upload), interleaved so that both see the same noise; medians.
        rounds = []
        for round_number in range(args.rounds):
            dd_s = dd_seconds(work, args.size_mib)
            file, timings = upload(floe, data, args.parts, args.parallel)
            if round_number + 1 < args.rounds:
                api(floe.url, floe.token, "DELETE", f"/v1/files/{file['id']}")
            rounds.append((dd_s, timings))
            print(f"  round {round_number + 1}: dd {args.size_mib / dd_s:.0f} MiB/s, "
                  f"PUTs {args.size_mib / timings['puts_s']:.0f} MiB/s, end to end {args.size_mib / timings['total_s']:.0f} MiB/s")
        results["peak_rss_mib"] = round(floe.peak_rss_mib(), 1)
        # Then read the last upload back whole: the bytes must be the ones sent.
        verify_download(floe, file, expected)
        results["peak_rss_after_download_mib"] = round(floe.peak_rss_mib(), 1)
        dd_s = statistics.median(r[0] for r in rounds)
        puts_s = statistics.median(r[1]["puts_s"] for r in rounds)
        total_s = statistics.median(r[1]["total_s"] for r in rounds)
        results["dd_mib_s"] = round(args.size_mib / dd_s, 1)
        results["upload_puts_mib_s"] = round(args.size_mib / puts_s, 1)
        results["upload_total_mib_s"] = round(args.size_mib / total_s, 1)
        results["upload_ratio_puts"] = round(statistics.median(d / t["puts_s"] for d, t in rounds), 3)
        results["upload_ratio_total"] = round(statistics.median(d / t["total_s"] for d, t in rounds), 3)
        results["rounds"] = [{"dd_s": round(d, 3), **{k: round(v, 3) for k, v in t.items()}} for d, t in rounds]
        del data

        # A list worth reading: 20 files, a page of 10.
        for i in range(20):
            small = f"file {i}".encode()
            created = api(floe.url, floe.token, "POST", "/v1/files/", {
                "service": "downloadable", "name": f"{i}.txt", "mime_type": "text/plain", "size": len(small),
                "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": len(small)}]},
            })
            part = created["upload"]["parts"][0]
            etag = put(part["url"], small, {})
            api(floe.url, floe.token, "POST", f"/v1/files/{created['id']}/uploaded", {
                "id": created["upload"]["id"], "path": created["upload"]["path"],
                "parts": [{"number": 1, "checksum_etag": etag, "checksum_sha256_base64": None}],
            })
        hello_port = 18000 + os.getpid() % 1000
        hello = subprocess.Popen([os.path.join(args.bin_dir, "hello-axum"), f"127.0.0.1:{hello_port}"])
        time.sleep(0.5)
        list_url = f"{floe.url}/v1/files/?limit=10"
        auth = f"Authorization: Bearer {floe.token}"
        wrk(list_url, 2, [auth])  # warm up
        hello_rps, floe_rps, floe_p99 = [], [], []
        for _ in range(2):  # interleaved, so both see the same noise
            hello_rps.append(wrk(f"http://127.0.0.1:{hello_port}/", args.duration)[0])
            rps, p99 = wrk(list_url, args.duration, [auth])
            floe_rps.append(rps)
            floe_p99.append(p99)
        results["hello_rps"] = round(statistics.median(hello_rps))
        results["list_rps"] = round(statistics.median(floe_rps))
        results["list_p99"] = floe_p99
        results["list_ratio"] = round(statistics.median(floe_rps) / statistics.median(hello_rps), 3)
    finally:
        if hello:
            hello.terminate()
        if floe:
            floe.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(json.dumps(results, indent=2))
    with open(os.path.join(OUT, f"results-{args.database}.json"), "w") as f:
        json.dump(results, f, indent=2)
    print()
    print(f"(a) upload {args.size_mib} MiB, {args.parts} parts, {args.parallel} at a time ({args.database}), median of {args.rounds}: "
          f"PUTs {results['upload_puts_mib_s']} MiB/s, with create+complete {results['upload_total_mib_s']} MiB/s; "
          f"dd fdatasync {results['dd_mib_s']} MiB/s; ratio {results['upload_ratio_puts']} (PUTs), {results['upload_ratio_total']} (end to end); target >= 0.7")
    print(f"(b) floe peak RSS during the uploads: {results['peak_rss_mib']} MiB (idle {results['rss_idle_mib']} MiB; "
          f"{results['peak_rss_after_download_mib']} MiB after also downloading it); target < 100")
    print(f"(c) GET /v1/files/?limit=10: {results['list_rps']} req/s vs hello-world {results['hello_rps']} req/s: ratio {results['list_ratio']}; target >= 0.25")


if __name__ == "__main__":
    main()
