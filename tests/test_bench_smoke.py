"""Keeps the benchmark harness (bench/) from rotting: a few seconds of the quickest workload.

Bare reference server, one room of 20 connections, 1,000 deliveries/s for two seconds. Only
invariants are asserted (everything connects, every delivery arrives, the figures are
filled in), never speed, so a busy machine cannot make it fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("websockets")
pytest.importorskip("psutil")

from bench import django_side
from bench.harness import migrate, raise_nofile
from bench.loadgen import ConnSpec, LoadGenerator, Step
from bench.metrics import ResourceSampler
from bench.protocol import AppProtocol, FrameKind, find_probe, probe_text
from bench.runner import step_row
from bench.targets import BARE
from bench.workloads import retention

pytestmark = pytest.mark.slow


def test_probe_round_trip_through_app_frames() -> None:
    protocol = AppProtocol()
    text = probe_text(3, 7, 11, 123456789, "pad")
    frame = protocol.send_frame(text, 11, "c-1")
    probe = find_probe(frame)
    assert probe is not None
    assert (probe.step, probe.sender, probe.number, probe.sent_ns) == (3, 7, 11, 123456789)
    assert protocol.kind('{"type":"message.new","message":{}}') is FrameKind.DELIVERY
    assert protocol.kind('{"type": "ack", "id": 1}') is FrameKind.ACK
    # The app's paths and frames come from the shared codec (smartcampus_chat.testing.wire).
    assert protocol.path(2, "a:b/c", 5) == "/ws/chat/bench-room-2/?v=1&ticket=a%3Ab%2Fc&event_seq=5"
    assert json.loads(protocol.resume_frame(2, 9, 4)) == {
        "type": "resume",
        "room": "bench-room-2",
        "event_seq": 9,
        "id": 4,
    }
    resumed = '{"type": "resumed", "room": "bench-room-2", "event_seq": 9, "truncated": true}'
    assert protocol.resumed_event_seq(resumed) == (9, True)


def test_bare_server_fanout_smoke() -> None:
    raise_nofile()
    members = 20
    specs = [ConnSpec(room=0, sender=0 if i == 0 else -1) for i in range(members)]
    with BARE.service() as service:
        sampler = ResourceSampler(service.pid).start()
        try:
            with LoadGenerator(BARE.protocol, service.port, specs, processes=1) as loadgen:
                connected = loadgen.connect()
                assert connected.connected == members
                result = loadgen.step(Step(1, duration=2.0, rate=1000 / members, drain=2.0))
                row = step_row(loadgen, result, 2.0)
        finally:
            sampler.stop()
        window = sampler.window()
    assert row["sent"] > 0
    assert row["received"] == row["expected"] == row["sent"] * members
    assert row["p99_ms"] is not None
    assert row["client_cpu_pct"]
    assert window["server_rss_mib"] > 0


def test_retention_workload_smoke(tmp_path: Path) -> None:
    """The retention workload at a tiny size on SQLite: everything expired is purged in
    several batches while two sockets chat, and no client sees an error."""
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    migrate(url)
    row = django_side.call(url, retention.measure, 120, 50, 2)
    assert row["purged"] == 120
    assert row["batches"] == 3
    assert row["reactions"] == 12
    assert row["longest_batch_ms"] > 0
    assert row["messages_per_s"]
    assert row["errors"] == []
    assert row["closed_by_server"] == []
    assert "failed" not in row
