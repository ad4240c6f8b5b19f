"""Uploads: attachments through the example site's real HTTP path (docs/attachments.md).

The example site under uvicorn (``app-uvicorn-memory``, one process) takes uploads from a
signed-in user (``POST api/rooms/<slug>/attachments/``, multipart, the body streamed from
this process):

- **photos**: a 12-megapixel JPEG (4000 by 3000, EXIF with GPS, as phones write them), N
  times (10; quick: 3): time per upload as the client sees it (type check, decode,
  re-encode without metadata, two thumbnails, storage), p50 and p95; and the image work
  alone (``infra.images.process``) in the bench's own process, p50 and p95;
- **large files**: a file at the size limit (``ATTACHMENT_MAX_BYTES``, 25 MiB), 3 times:
  throughput (MB/s) and the server's resident memory before and at its peak during the
  uploads: the growth shows whether a file is held in memory whole (it is not: Django
  spools request bodies to disk past ``FILE_UPLOAD_MAX_MEMORY_SIZE``, and the file is
  copied to storage in chunks); then the same files downloaded (``ATTACHMENT_SERVE =
  "django"``): throughput and the peak memory while serving them.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import secrets
import statistics
import time
from collections.abc import Iterator
from typing import Any

from bench import django_side
from bench.runner import RunContext, serve
from bench.targets import BY_NAME

TITLE = "Uploads: photo processing, throughput and memory"
PHOTO_SIZE = (4000, 3000)
LARGE_BYTES = 25 * 1024 * 1024
CHUNK = 256 * 1024


def photo() -> bytes:
    """A 12 Mpx JPEG with detail (noise compresses like a photo) and EXIF with GPS."""
    from PIL import Image

    width, height = PHOTO_SIZE
    noise = Image.effect_noise((width // 4, height // 4), 64).convert("RGB")
    image = noise.resize(PHOTO_SIZE)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (48.0, 6.0, 5.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def large_file() -> bytes:
    """A PDF-signed file of random bytes at the size limit, less the multipart overhead."""
    return b"%PDF-1.7\n" + os.urandom(LARGE_BYTES - 9)


def _parts(boundary: str, name: str, data: bytes) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield bytes(view[start : start + CHUNK])
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(port: int, path: str, session: str, name: str, data: bytes) -> tuple[float, int, bytes]:
    """POST one file, its body streamed in chunks; seconds until the answer, its status
    and its body."""
    boundary = secrets.token_hex(16)
    parts = list(_parts(boundary, name, data))
    csrf = secrets.token_hex(16)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(sum(len(part) for part in parts)),
        "Cookie": f"{django_side.SESSION_COOKIE}={session}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Referer": f"http://127.0.0.1:{port}/",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("POST", path, body=iter(parts), headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, response.status, body


def download(port: int, path: str, session: str) -> tuple[float, int]:
    """GET a file, read a block at a time and dropped; seconds and bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": f"{django_side.SESSION_COOKIE}={session}"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    size = 0
    while block := response.read(CHUNK):
        size += len(block)
    connection.close()
    return time.perf_counter() - started, size


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def image_work(data: bytes, rounds: int) -> list[float]:
    """Seconds of ``infra.images.process`` per photo, in this process."""
    from smartcampus_chat.infra import images

    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        images.process(io.BytesIO(data), "image/jpeg", max_pixels=50_000_000)
        samples.append(time.perf_counter() - started)
    return samples


def upload_path(slug: str) -> str:
    from django.urls import reverse

    return reverse("smartcampus_chat:api-attachment-list", args=[slug])


def run(ctx: RunContext) -> list[dict[str, Any]]:
    photos = 3 if ctx.quick else 10
    larges = 1 if ctx.quick else 3
    target = BY_NAME["app-uvicorn-memory"]
    picture = photo()
    rows: list[dict[str, Any]] = []
    work = django_side.call(ctx.database_url, image_work, picture, photos)
    with serve(ctx, target, rooms=0, users=1) as served:
        page = django_side.call(served.database_url, django_side.prepare_page, 1)
        path = django_side.call(served.database_url, upload_path, page["rooms"][0]["slug"])
        session = page["session"]
        upload(served.port, path, session, "warm-up.jpg", picture)
        times = []
        for index in range(photos):
            elapsed, status, _body = upload(served.port, path, session, f"IMG_{index}.jpg", picture)
            assert status == 201, status
            times.append(elapsed)
        rows.append(
            {
                "workload": "uploads",
                "case": "photo 12 Mpx",
                "target": target.name,
                "uploads": photos,
                "file_mib": round(len(picture) / 2**20, 2),
                "upload_p50_ms": round(statistics.median(times) * 1000, 1),
                "upload_p95_ms": round(_p(times, 0.95) * 1000, 1),
                "image_work_p50_ms": round(statistics.median(work) * 1000, 1),
                "image_work_p95_ms": round(_p(work, 0.95) * 1000, 1),
            }
        )
        big = large_file()
        served.sampler.mark()
        idle_rss = served.sampler.rss()
        times = []
        urls = []
        for index in range(larges):
            elapsed, status, body = upload(served.port, path, session, f"big-{index}.pdf", big)
            assert status == 201, status
            times.append(elapsed)
            urls.append(json.loads(body)["download_url"])
        window = served.sampler.window()
        served.sampler.mark()
        downloads = [download(served.port, url, session) for url in urls]
        download_window = served.sampler.window()
    rows.append(
        {
            "workload": "uploads",
            "case": "file at the limit (25 MiB)",
            "target": target.name,
            "uploads": larges,
            "file_mib": round(len(big) / 2**20, 2),
            "upload_p50_ms": round(statistics.median(times) * 1000, 1),
            "mb_per_s": round(len(big) / 1e6 / statistics.median(times), 1),
            "server_rss_before_mib": round(idle_rss / 2**20, 1),
            "server_rss_peak_mib": window["server_rss_mib"],
            "download_mb_per_s": round(
                sum(size for _, size in downloads) / 1e6 / sum(t for t, _ in downloads), 1
            ),
            "download_rss_peak_mib": download_window["server_rss_mib"],
        }
    )
    photo_row, large_row = rows
    ctx.log(
        f"uploads: photo p50 {photo_row['upload_p50_ms']} ms "
        f"(image work {photo_row['image_work_p50_ms']} ms), 25 MiB at {large_row['mb_per_s']} "
        f"MB/s, RSS {large_row['server_rss_before_mib']} → {large_row['server_rss_peak_mib']} MiB"
        f", download {large_row['download_mb_per_s']} MB/s"
        f" (RSS {large_row['download_rss_peak_mib']} MiB)"
    )
    return rows
