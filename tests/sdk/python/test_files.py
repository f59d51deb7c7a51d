"""Every operation of the files API through the official Python SDK (polar-sdk 1.0.2),
including what clients get wrong: auth, scopes, tenancy, validation, tampered and expired
URLs, wrong checksums, missing parts, sizes, ranges and names."""

import base64
import hashlib
import time
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, NotPermitted, ResourceNotFound

from conftest import STORAGE, Floe

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
CHUNK = 10_000_000  # Polar's web uploader
S3 = STORAGE == "s3"
# The smallest part but the last that a plan may have: S3 stores want 5 MiB; floe's local
# storage takes any size, so tests of multi-part behaviour stay small there.
SMALL_CHUNK = 5 * 1024 * 1024 if S3 else 10
# What a store answers to a refused part upload or download: floe's local storage 403s a
# bad signature and 400s a bad body; S3 stores differ (Garage: 400 for an expired URL,
# 403 for a body whose length the signature does not cover).
REFUSED = (400, 403) if S3 else None


def b64sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def plan(data, chunk, checksums=False):
    """The part plan Polar's uploader sends: half-open ranges, and a trailing empty part
    when the size is an exact multiple of the chunk."""
    parts, start, number = [], 0, 1
    while True:
        end = min(start + chunk, len(data))
        part = {"number": number, "chunk_start": start, "chunk_end": end}
        if checksums:
            part["checksum_sha256_base64"] = b64sha256(data[start:end])
        parts.append(part)
        if end == len(data):
            break
        start, number = end, number + 1
    if len(data) % chunk == 0 and len(parts) > 0 and parts[-1]["chunk_end"] - parts[-1]["chunk_start"] == chunk:
        parts.append({"number": number + 1, "chunk_start": len(data), "chunk_end": len(data)})
    return parts


def create(polar, data, name="file.bin", service="downloadable", mime="application/octet-stream", chunk=CHUNK, checksums=False, **extra):
    return polar.files.create(
        service=service, name=name, mime_type=mime, size=len(data), upload={"parts": plan(data, chunk, checksums)}, **extra
    )


def put_parts(upload, data):
    done = []
    for part in upload.upload.parts:
        response = httpx.put(part.url, content=data[part.chunk_start : part.chunk_end], headers=part.headers)
        assert response.status_code == 200, response.text
        done.append({"number": part.number, "checksum_etag": response.headers["etag"], "checksum_sha256_base64": part.checksum_sha256_base64})
    return done


def complete(polar, upload, parts):
    return polar.files.uploaded(upload.id, id=upload.upload.id, path=upload.upload.path, parts=parts)


def upload_file(polar, data, **kwargs):
    upload = create(polar, data, **kwargs)
    return complete(polar, upload, put_parts(upload, data))


def download(org, file_id):
    """`GET /v1/files/{id}/download`, which the SDK does not wrap (Polar keeps it private)."""
    return download_with(org.url, org.token, file_id)


def download_with(url, token, file_id):
    response = httpx.get(f"{url}/v1/files/{file_id}/download", headers={"Authorization": f"Bearer {token}"})
    from contract import check_response

    check_response(response)
    return response


def raw(floe, method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{floe.url}{path}", headers=headers, **kwargs)


# --- the happy paths -------------------------------------------------------------------


def test_list_is_empty_for_a_new_organization(org):
    listed = org.polar.files.list()
    assert listed.items == []
    assert listed.pagination.total_count == 0
    assert listed.pagination.max_page == 0


def test_create_plans_every_service_kind(org):
    for service, mime, data in [
        ("downloadable", "application/zip", b"zip" * 10),
        ("product_media", "image/png", PNG),
        ("organization_avatar", "image/png", PNG),
        ("support_case_attachment", "application/pdf", b"%PDF-1.4"),
    ]:
        upload = create(org.polar, data, name=f"{service}.x", service=service, mime=mime, checksums=True)
        assert upload.service == service
        assert upload.is_uploaded is False
        assert upload.organization_id == org.id
        assert upload.path == f"{service}/{org.id}/{upload.id}/{service}.x"
        assert upload.upload.path == upload.path
        assert upload.size == len(data)
        part = upload.upload.parts[0]
        assert part.headers["x-amz-checksum-sha256"] == b64sha256(data)
        assert part.headers["x-amz-sdk-checksum-algorithm"] == "SHA256"
        assert part.url.startswith("http://127.0.0.1:")
        file = complete(org.polar, upload, put_parts(upload, data))
        assert file.is_uploaded is True
        assert file.service == service
        assert file.checksum_etag.endswith('-1"')


def test_multipart_upload_complete_list_update_delete(org):
    data = bytes(range(256)) * 100_000  # 25.6 MB: three 10 MB chunks as Polar's uploader cuts them
    upload = create(org.polar, data, name="app-1.0.zip", mime="application/zip", checksums=True, checksum_sha256_base64=b64sha256(data), version="1.0")
    assert [(p.chunk_start, p.chunk_end) for p in upload.upload.parts] == [(0, 10_000_000), (10_000_000, 20_000_000), (20_000_000, 25_600_000)]
    assert upload.checksum_sha256_base64 == b64sha256(data)
    assert upload.checksum_sha256_hex == hashlib.sha256(data).hexdigest()
    file = complete(org.polar, upload, put_parts(upload, data))
    assert file.version == "1.0"
    assert file.size_readable == "24.4 MB"
    assert file.checksum_etag.startswith('"') and file.checksum_etag.endswith('-3"')
    assert file.flagged_malicious_at is None

    listed = org.polar.files.list()
    assert [f.id for f in listed.items] == [file.id]

    updated = org.polar.files.update(file.id, name="app-1.1.zip", version="1.1")
    assert (updated.name, updated.version) == ("app-1.1.zip", "1.1")
    assert updated.path == file.path

    assert org.polar.files.delete(file.id) is None
    assert org.polar.files.list().pagination.total_count == 0
    with pytest.raises(ResourceNotFound):
        org.polar.files.update(file.id, name="again")


def test_exact_multiple_of_the_chunk_ends_with_an_empty_part(org):
    n = SMALL_CHUNK
    data = b"x" * (2 * n)
    upload = create(org.polar, data, chunk=n)
    assert [(p.chunk_start, p.chunk_end) for p in upload.upload.parts] == [(0, n), (n, 2 * n), (2 * n, 2 * n)]
    empty = upload.upload.parts[2]
    assert httpx.put(empty.url, content=b"!").status_code == 400
    assert httpx.put(empty.url[:-1] + ("0" if empty.url[-1] != "0" else "1"), content=b"").status_code == 403
    file = complete(org.polar, upload, put_parts(upload, data))
    assert file.size == 2 * n


def test_download_is_presigned_and_supports_ranges(floe, org):
    data = bytes(range(256)) * 40
    file = upload_file(org.polar, data, name="report 2026.pdf", mime="application/pdf", chunk=CHUNK if S3 else 3000)
    info = download(org, file.id)
    assert info.status_code == 200
    body = info.json()
    assert body["id"] == file.id and body["is_uploaded"] is True
    url = body["download"]["url"]
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="report 2026.pdf"'
    part = httpx.get(url, headers={"Range": "bytes=2990-3009"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 2990-3009/{len(data)}"
    assert part.content == data[2990:3010]
    assert httpx.get(url, headers={"Range": "bytes=-5"}).content == data[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_public_urls_of_media_and_avatars(org):
    for service in ("product_media", "organization_avatar"):
        file = upload_file(org.polar, PNG, name="logo.png", service=service, mime="image/png")
        got = httpx.get(file.public_url)
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-type"] == "image/png"
    downloadable = upload_file(org.polar, b"secret", name="secret.txt", mime="text/plain")
    assert not hasattr(downloadable, "public_url")


def test_iter_list_walks_every_page(org):
    ids = {upload_file(org.polar, f"file {i}".encode(), name=f"{i}.txt", mime="text/plain").id for i in range(5)}
    assert {f.id for f in org.polar.files.iter_list(limit=2)} == ids
    page = org.polar.files.list(limit=2, page=3)
    assert len(page.items) == 1 and page.pagination.max_page == 3
    assert {f.id for f in org.polar.files.list(ids=list(ids)[:2]).items} == set(list(ids)[:2])
    assert org.polar.files.list(organization_id=org.id).pagination.total_count == 5


def test_unicode_names(org):
    for name in ["résumé.pdf", "日本語.txt", "🚀 launch.zip", "../../../etc/passwd", "a/b/c.txt", 'q"uote.txt']:
        data = name.encode()
        file = upload_file(org.polar, data, name=name, mime="text/plain")
        assert file.name == name
        # The key keeps the name but for `.`/`..` segments, which URL paths would resolve.
        key_name = "/".join("_" if segment in (".", "..") else segment for segment in name.split("/"))
        assert file.path.endswith(f"/{file.id}/{key_name}")
        got = httpx.get(download(org, file.id).json()["download"]["url"])
        assert got.content == data
        assert "filename" in got.headers["content-disposition"]


def test_organizations_read_with_the_sdk(org):
    got = org.polar.organizations.get(org.id)
    assert got.slug == org.organization["slug"]
    listed = org.polar.organizations.list()
    assert [o.id for o in listed.items] == [org.id]
    assert org.polar.organizations.list(slug="someone-else").items == []


# --- what clients get wrong ----------------------------------------------------------------


def test_missing_credentials_are_401(floe):
    response = raw(floe, "GET", "/v1/files/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {"error": "Unauthorized", "detail": "Unauthorized"}


def test_invalid_tokens_are_401(floe, org):
    bad = org.token[:-1] + ("a" if org.token[-1] != "a" else "b")
    for token in [bad, "polar_oat_" + "x" * 43, "garbage"]:
        with pytest.raises(PolarClientError) as error:
            floe.client(token).files.list()
        assert error.value.status_code == 401
        assert "invalid_token" in str(error.value)


def test_scopes_are_enforced(floe, org):
    read_only = floe.client(floe.token(org.organization, "files:read"))
    assert read_only.files.list().items == []
    with pytest.raises(PolarClientError) as error:
        create(read_only, b"x")
    assert error.value.status_code == 403
    assert "insufficient_scope" in str(error.value)
    other_scope = floe.client(floe.token(org.organization, "products:read"))
    with pytest.raises(PolarClientError) as error:
        other_scope.files.list()
    assert error.value.status_code == 403
    writer = floe.client(floe.token(org.organization, "files:write", name="ci"))
    assert writer.files.list().items == []  # write implies read, as in Polar


def test_unknown_files_are_404(org):
    missing = str(uuid.uuid4())
    with pytest.raises(ResourceNotFound) as error:
        org.polar.files.uploaded(missing, id="x", path="y", parts=[])
    assert error.value.error.error == "ResourceNotFound"
    with pytest.raises(ResourceNotFound):
        org.polar.files.update(missing, name="x")
    with pytest.raises(ResourceNotFound):
        org.polar.files.delete(missing)


def test_tenants_are_isolated(floe, org):
    other_org = floe.organization()
    other = floe.client(floe.token(other_org))
    file = upload_file(org.polar, b"mine", name="mine.txt", mime="text/plain")
    assert other.files.list().items == []
    assert other.files.list(ids=[file.id]).items == []
    assert other.files.list(organization_id=org.id).pagination.total_count == 0
    with pytest.raises(ResourceNotFound):
        other.files.update(file.id, name="stolen")
    with pytest.raises(ResourceNotFound):
        other.files.delete(file.id)
    with pytest.raises(ResourceNotFound):
        other.files.uploaded(file.id, id="x", path="y", parts=[])
    with pytest.raises(ResourceNotFound):
        other.organizations.get(org.id)
    assert download(org, file.id).status_code == 200
    other_token = floe.token(other_org)
    response = raw(floe, "GET", f"/v1/files/{file.id}/download", token=other_token)
    assert response.status_code == 404


def test_validation_errors_are_422_with_locations(org):
    cases = [
        (dict(service="downloadable", name="a", mime_type="text/plain", size=0, upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 0}]}), ["body", "downloadable", "size"]),
        (dict(service="product_media", name="a", mime_type="application/pdf", size=3, upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 3}]}), ["body", "product_media", "mime_type"]),
        (dict(service="organization_avatar", name="a", mime_type="image/png", size=2 * 1024 * 1024, upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 2 * 1024 * 1024}]}), ["body", "organization_avatar", "size"]),
        (dict(service="downloadable", name="a", mime_type="text/plain", size=10, upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 4}, {"number": 2, "chunk_start": 5, "chunk_end": 9}]}), ["body", "upload", "parts", 1, "chunk_start"]),
        (dict(service="downloadable", name="a", mime_type="text/plain", size=10, upload={"parts": []}), ["body", "upload", "parts"]),
        (dict(service="downloadable", name="a", mime_type="text/plain", size=10, organization_id=str(uuid.uuid4()), upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 10}]}), ["body", "organization_id"]),
        (dict(service="nothing", name="a"), ["body", "service"]),
        (dict(service="downloadable", name="a", mime_type="text/plain", size="big", upload={"parts": []}), ["body", "size"]),
    ]
    for body, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.files.create(**body)
        detail = error.value.error.detail
        assert any(list(d.loc) == loc for d in detail), (loc, detail)
        assert all(d.msg and d.type for d in detail)


def test_tampered_part_urls_are_403(org):
    data = b"0123456789"
    upload = create(org.polar, data)
    url = upload.upload.parts[0].url
    for tampered in [url.replace("partNumber=1", "partNumber=2"), url[:-1] + ("0" if url[-1] != "0" else "1"), url.split("?")[0]]:
        response = httpx.put(tampered, content=data)
        assert response.status_code == 403, tampered
        if not S3:
            assert response.json()["error"] == "NotPermitted"
    # Nothing was stored: a completion claiming the part is refused.
    made_up = [{"number": 1, "checksum_etag": f'"{hashlib.md5(data).hexdigest()}"', "checksum_sha256_base64": None}]
    with pytest.raises(HTTPValidationError) as error:
        complete(org.polar, upload, made_up)
    assert list(error.value.error.detail[0].loc)[:3] == ["body", "parts", 0]
    assert httpx.put(url, content=data).status_code == 200


def test_expired_urls_are_403():
    short = Floe(presign_ttl=1)
    try:
        organization = short.organization()
        polar = short.client(short.token(organization))
        data = b"expiring"
        upload = create(polar, data)
        time.sleep(2.1)
        response = httpx.put(upload.upload.parts[0].url, content=data)
        if S3:
            assert response.status_code in REFUSED, response.text
        else:
            assert response.status_code == 403
            assert "expired" in response.json()["detail"]
        made_up = [{"number": 1, "checksum_etag": f'"{hashlib.md5(data).hexdigest()}"', "checksum_sha256_base64": None}]
        with pytest.raises(HTTPValidationError):
            complete(polar, upload, made_up)
    finally:
        short.stop()


def test_wrong_part_checksums_are_400_and_nothing_is_kept(org):
    data = b"a" * 1000
    upload = create(org.polar, data, checksums=True)
    part = upload.upload.parts[0]
    response = httpx.put(part.url, content=b"b" * 1000, headers=part.headers)
    assert response.status_code == 400
    with pytest.raises(HTTPValidationError):
        complete(org.polar, upload, [{"number": 1, "checksum_etag": '"00000000000000000000000000000000"', "checksum_sha256_base64": part.checksum_sha256_base64}])
    file = complete(org.polar, upload, put_parts(upload, data))
    assert file.is_uploaded


def test_missing_and_wrong_parts_are_refused_on_completion(org):
    data = b"z" * (2 * SMALL_CHUNK + 3)
    upload = create(org.polar, data, chunk=SMALL_CHUNK)
    parts = put_parts(upload, data)
    with pytest.raises(HTTPValidationError) as error:
        complete(org.polar, upload, parts[:2])
    assert "missing: 3" in error.value.error.detail[0].msg
    wrong = [dict(p) for p in parts]
    wrong[0]["checksum_etag"] = '"ffffffffffffffffffffffffffffffff"'
    with pytest.raises(HTTPValidationError) as error:
        complete(org.polar, upload, wrong)
    assert list(error.value.error.detail[0].loc) == ["body", "parts", 0, "checksum_etag"]
    assert complete(org.polar, upload, parts).is_uploaded


def test_sizes_must_match(org):
    data = b"y" * 10
    upload = create(org.polar, data)
    url = upload.upload.parts[0].url
    for wrong in (data[:9], data + b"!"):
        assert httpx.put(url, content=wrong).status_code in (REFUSED or (400,))
    # A declared whole-file checksum must match what was assembled.
    upload = create(org.polar, data, checksum_sha256_base64=b64sha256(b"something else"))
    with pytest.raises(HTTPValidationError) as error:
        complete(org.polar, upload, put_parts(upload, data))
    assert "SHA-256" in error.value.error.detail[0].msg


def test_images_are_checked_by_content(org):
    upload = create(org.polar, b"not an image", service="product_media", mime="image/png")
    with pytest.raises(HTTPValidationError) as error:
        complete(org.polar, upload, put_parts(upload, b"not an image"))
    assert "image/png" in error.value.error.detail[0].msg


def test_support_attachments_are_not_mutable(org):
    file = upload_file(org.polar, b"log", service="support_case_attachment", mime="text/plain", name="log.txt")
    with pytest.raises(NotPermitted):
        org.polar.files.update(file.id, name="x")
    with pytest.raises(NotPermitted):
        org.polar.files.delete(file.id)
    assert org.polar.files.list().items == []


def test_part_sizes_follow_the_store(org):
    """S3 stores want every part but the last to be at least 5 MiB and all the same size;
    floe refuses other plans before presigning. Local storage takes any sizes."""
    data = b"q" * 25
    if S3:
        with pytest.raises(HTTPValidationError) as error:
            create(org.polar, data, chunk=10)
        assert list(error.value.error.detail[0].loc)[-2:] == ["upload", "parts"]
        assert "5 MiB" in error.value.error.detail[0].msg
    else:
        assert len(create(org.polar, data, chunk=10).upload.parts) == 3
