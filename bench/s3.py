"""The S3 upload benchmark behind bench/run-s3: a 1 GiB file in 64 MiB parts, 2 at a time,
uploaded to Garage (a) straight with the S3 API, signed by the client (the ceiling), and
(b) through floe: files:create, PUTs to the presigned part URLs floe hands out, files:uploaded.
Both use the same HTTP client (curl) on the same part files, rounds interleaved. floe never
touches the bytes, so its CPU and memory during (b) should stay near idle; both are reported.
Standard library only (and curl, which signs SigV4 itself)."""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid

import bench

MIB = 1024 * 1024


def curl(*args, body_file=None):
    command = ["curl", "-sS", "--fail-with-body", "-o", "-", "-D", "-"]
    if body_file:
        command += ["-T", body_file]
    result = subprocess.run(command + list(args), capture_output=True, check=True)
    return result.stdout.decode(errors="replace")


def etag_of(response):
    return re.search(r"(?im)^etag:\s*(\S+)", response).group(1)


class Direct:
    """The S3 API straight from the client, SigV4-signed by curl."""

    def __init__(self, env):
        self.endpoint = env["FLOE_S3_ENDPOINT"]
        self.bucket = env["FLOE_S3_BUCKET"]
        self.auth = ["--aws-sigv4", f"aws:amz:{env['FLOE_S3_REGION']}:s3",
                     "--user", f"{env['FLOE_S3_ACCESS_KEY_ID']}:{env['FLOE_S3_SECRET_ACCESS_KEY']}",
                     "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]

    def upload(self, part_files, parallel):
        key = f"bench/{uuid.uuid4()}"
        url = f"{self.endpoint}/{self.bucket}/{key}"
        created = curl("-X", "POST", *self.auth, f"{url}?uploads=")
        upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", created).group(1)

        def put(numbered):
            number, path = numbered
            return number, etag_of(curl(*self.auth, f"{url}?partNumber={number}&uploadId={upload_id}", body_file=path))

        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            etags = dict(pool.map(put, enumerate(part_files, start=1)))
        parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>" for n in sorted(etags))
        body = os.path.join(os.path.dirname(part_files[0]), "complete.xml")
        with open(body, "w") as f:
            f.write(f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
        curl("-X", "POST", *self.auth, "--data-binary", f"@{body}", f"{url}?uploadId={upload_id}")
        curl("-X", "DELETE", *self.auth, url)


def through_floe(floe, part_files, part_size, size, parallel):
    plan = [{"number": n, "chunk_start": (n - 1) * part_size, "chunk_end": min(n * part_size, size)}
            for n in range(1, len(part_files) + 1)]
    created = bench.api(floe.url, floe.token, "POST", "/v1/files/", {
        "service": "downloadable", "name": "bench.bin", "mime_type": "application/octet-stream",
        "size": size, "upload": {"parts": plan},
    })

    def put(item):
        part, path = item
        headers = [arg for name, value in part["headers"].items() for arg in ("-H", f"{name}: {value}")]
        return {"number": part["number"], "checksum_etag": etag_of(curl(*headers, part["url"], body_file=path)),
                "checksum_sha256_base64": None}

    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        parts = list(pool.map(put, zip(created["upload"]["parts"], part_files)))
    bench.api(floe.url, floe.token, "POST", f"/v1/files/{created['id']}/uploaded",
              {"id": created["upload"]["id"], "path": created["upload"]["path"], "parts": parts})
    bench.api(floe.url, floe.token, "DELETE", f"/v1/files/{created['id']}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--garage-env", required=True, help="the env file scripts/garage-test-server wrote")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with open(args.garage_env) as f:
        s3_env = dict(re.findall(r"export (\w+)=(\S+)", f.read()))
    os.environ.update(s3_env)
    os.makedirs(bench.OUT, exist_ok=True)
    work = tempfile.mkdtemp(dir=bench.OUT)
    floe = None
    try:
        size, part_size = args.size_mib * MIB, args.part_mib * MIB
        part_files = []
        for number in range(-(-size // part_size)):
            path = os.path.join(work, f"part-{number + 1}")
            with open(path, "wb") as f:
                f.write(os.urandom(min(part_size, size - number * part_size)))
            part_files.append(path)
        floe = bench.Floe(args.bin_dir, os.path.join(work, "floe-data"), "sqlite")
        idle_rss = floe.rss_mib()
        direct = Direct(s3_env)
        direct.upload(part_files[:1], 1)  # warm up both paths
        through_floe(floe, part_files[:1], part_size, part_size, 1)
        rounds = []
        for number in range(args.rounds):
            started = time.perf_counter()
            direct.upload(part_files, args.parallel)
            direct_s = time.perf_counter() - started
            cpu_before = cpu_seconds(floe.process.pid)
            started = time.perf_counter()
            through_floe(floe, part_files, part_size, size, args.parallel)
            floe_s = time.perf_counter() - started
            floe_cpu = cpu_seconds(floe.process.pid) - cpu_before
            rounds.append({"direct_s": round(direct_s, 3), "floe_s": round(floe_s, 3), "floe_cpu_s": round(floe_cpu, 3)})
            print(f"  round {number + 1}: direct {args.size_mib / direct_s:.0f} MiB/s, through floe "
                  f"{args.size_mib / floe_s:.0f} MiB/s, floe CPU {floe_cpu:.2f} s")
        results = {
            "size_mib": args.size_mib, "part_mib": args.part_mib, "parallel": args.parallel, "rounds": rounds,
            "direct_mib_s": round(args.size_mib / statistics.median(r["direct_s"] for r in rounds), 1),
            "floe_mib_s": round(args.size_mib / statistics.median(r["floe_s"] for r in rounds), 1),
            "ratio": round(statistics.median(r["direct_s"] / r["floe_s"] for r in rounds), 3),
            "floe_cpu_s_median": round(statistics.median(r["floe_cpu_s"] for r in rounds), 3),
            "floe_rss_idle_mib": round(idle_rss, 1),
            "floe_rss_peak_mib": round(floe.peak_rss_mib(), 1),
        }
    finally:
        if floe:
            floe.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    with open(os.path.join(bench.OUT, "results-s3.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nS3 upload, {args.size_mib} MiB in {args.part_mib} MiB parts, {args.parallel} at a time, median of {args.rounds}: "
          f"through floe's presigned URLs {results['floe_mib_s']} MiB/s vs straight to the store {results['direct_mib_s']} MiB/s: "
          f"ratio {results['ratio']}; floe used {results['floe_cpu_s_median']} CPU-s per upload, RSS {results['floe_rss_idle_mib']} MiB idle, "
          f"{results['floe_rss_peak_mib']} MiB peak")


if __name__ == "__main__":
    main()
