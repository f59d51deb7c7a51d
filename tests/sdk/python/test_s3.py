"""What only the S3 backend has: a store that is down or does not answer. Run with the files
suite when floe's S3 settings are in the environment (scripts/test does, against Garage)."""

import socket
import threading
import time
import urllib.parse

import httpx
import pytest

from conftest import STORAGE

if STORAGE != "s3":
    pytest.fail("test_s3.py needs FLOE_STORAGE=s3 and the FLOE_S3_* settings", pytrace=False)


def create_file(floe):
    organization = floe.organization()
    token = floe.token(organization)
    body = {
        "service": "downloadable", "name": "a.txt", "mime_type": "text/plain", "size": 3,
        "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 3}]},
    }
    started = time.monotonic()
    response = httpx.post(f"{floe.url}/v1/files/", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    return response, time.monotonic() - started


def test_a_store_that_is_down_is_a_retryable_503(own_floe):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    floe = own_floe(s3_endpoint=f"http://127.0.0.1:{port}")
    response, took = create_file(floe)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "ServiceUnavailable"
    assert response.headers["retry-after"]
    assert took < 15
    assert floe.organization()  # floe itself is fine


def test_a_store_that_does_not_answer_is_a_504_not_a_hang(own_floe):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(silent.accept()[0])  # and never answer
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    floe = own_floe(s3_endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}")
    try:
        response, took = create_file(floe)
        assert response.status_code == 504, response.text
        assert response.json()["error"] == "GatewayTimeout"
        assert response.headers["retry-after"]
        assert took < 35
    finally:
        silent.close()
        for connection in accepted:
            connection.close()


def test_abandoned_uploads_are_aborted_in_the_store(own_floe):
    floe = own_floe(upload_max_age=1, sweep_interval=1)
    organization = floe.organization()
    polar = floe.client(floe.token(organization))
    data = b"abandoned"
    upload = polar.files.create(
        service="downloadable", name="a.bin", mime_type="application/octet-stream", size=len(data),
        upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": len(data)}]},
    )
    time.sleep(3.5)
    # The store no longer knows the upload: AbortMultipartUpload went through.
    response = httpx.put(upload.upload.parts[0].url, content=data)
    assert response.status_code == 404, response.text
    assert "NoSuchUpload" in response.text


def test_storage_check_says_what_is_wrong(floe):
    ok = floe.run_cli("storage", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "storage is ready" in ok.stdout
    # Two buckets: reachable, write, read back, delete, multipart.
    assert sum(line.startswith("ok ") for line in ok.stdout.splitlines()) == 10, ok.stdout
    wrong = floe.run_cli("storage", "check", "--s3-secret-access-key", "wrong")
    assert wrong.returncode == 1
    assert "FAIL" in wrong.stdout and "403" in wrong.stdout
    missing = floe.run_cli("storage", "check", "--s3-bucket", "no-such-bucket")
    assert missing.returncode == 1
    assert "no-such-bucket" in missing.stdout and "404" in missing.stdout


def test_objects_carry_polars_metadata(floe):
    from test_files import b64sha256, download_with, upload_file

    organization = floe.organization()
    token = floe.token(organization)
    polar = floe.client(token)
    data = b"metadata"
    file = upload_file(polar, data, name="🚀 naïve.txt", mime="text/plain", checksum_sha256_base64=b64sha256(data))
    got = httpx.get(download_with(floe.url, token, file.id).json()["download"]["url"])
    assert got.content == data
    meta = {k.removeprefix("x-amz-meta-"): v for k, v in got.headers.items() if k.startswith("x-amz-meta-")}
    assert meta["polar-id"] == file.id
    assert meta["polar-organization-id"] == organization["id"]
    assert meta["polar-name"] == "nave.txt"
    assert meta["polar-size"] == str(len(data))
    assert meta["polar-sha256-base64"] == b64sha256(data)


def test_part_checksum_headers_are_signed(floe):
    """A part planned with its SHA-256 must be sent with the returned checksum headers: they
    are part of the signature, so leaving them out is refused by the store itself."""
    from test_files import create

    polar = floe.client(floe.token(floe.organization()))
    data = b"signed checksum"
    upload = create(polar, data, checksums=True)
    part = upload.upload.parts[0]
    assert set(part.headers) == {"x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm"}
    signed = urllib.parse.parse_qs(urllib.parse.urlsplit(part.url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "content-length"} <= set(signed)
    # Refused (Garage says 400 for a signed header that is missing, AWS 403).
    assert httpx.put(part.url, content=data).status_code in (400, 403)
    assert httpx.put(part.url, content=data, headers=part.headers).status_code == 200
