"""Open-loop WebSocket load generator: asyncio inside, one or more processes.

The coordinator (:class:`LoadGenerator`) spreads connections over worker processes and
drives them step by step through a pipe: ``connect``, then any number of ``step`` commands
(send for ``duration`` seconds at a fixed rate per sender, then wait ``drain`` seconds for
stragglers), then ``close``. Connections stay open between steps, so a rate sweep does not
pay the handshakes again.

Open loop: a sender sends at its scheduled times whatever the server does, and stamps each
message with its *scheduled* time, so a stalled server shows up as latency rather than as
fewer sends (no coordinated omission). Closed loop (``Step.closed_loop``): each sender
waits for the acknowledgement of its previous message; used to measure stored messages/s.
Back to back (``Step.back_to_back``): each sender sends that many messages at once,
without waiting for answers, then waits for all of them (a bot, an integration, a pasted
list): the time to the last answer measures how a server handles one socket's sends.

Each worker reports its own CPU use, so that a saturated client is not mistaken for a slow
server: above ~90 % of a core the figures measure the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Origin

from bench.harness import raise_nofile
from bench.metrics import Histogram
from bench.protocol import PROTOCOLS, FrameKind, Protocol, find_probe, probe_text

#: Seconds a back-to-back sender waits for its last answer.
BACK_TO_BACK_TIMEOUT = 120.0
#: A worker is taken as saturated above this share of one core.
CLIENT_SATURATED_PCT = 90.0


@dataclass(frozen=True)
class ConnSpec:
    """One connection: its room, its sender id (``-1``: receive only) and extra headers."""

    room: int
    sender: int = -1
    headers: tuple[tuple[str, str], ...] = ()
    #: Opaque credential the protocol puts in the URL (the app's ticket).
    credential: str = ""
    #: Ask for permessage-deflate.
    compress: bool = False


@dataclass(frozen=True)
class Step:
    step: int
    duration: float
    rate: float = 0.0
    drain: float = 2.0
    closed_loop: bool = False
    padding: int = 0
    #: Each sender sends this many messages without waiting, then waits for every answer.
    back_to_back: int = 0


@dataclass
class ConnectResult:
    connected: int = 0
    failed: int = 0
    seconds: float = 0.0
    members: Counter[int] = field(default_factory=Counter)
    handshake: Histogram = field(default_factory=Histogram)
    first_error: str = ""

    def merge(self, other: ConnectResult) -> None:
        self.connected += other.connected
        self.failed += other.failed
        self.seconds = max(self.seconds, other.seconds)
        self.members.update(other.members)
        self.handshake.merge(other.handshake)
        self.first_error = self.first_error or other.first_error


@dataclass
class StepResult:
    sent: int = 0
    sent_by_room: Counter[int] = field(default_factory=Counter)
    received: int = 0
    late: int = 0
    latency: Histogram = field(default_factory=Histogram)
    acks: int = 0
    ack_latency: Histogram = field(default_factory=Histogram)
    errors: int = 0
    #: The first error frame received (its text, cut): why sends were refused.
    first_error: str = ""
    closed: int = 0
    send_lag_max_ms: float = 0.0
    client_cpu_pct: list[float] = field(default_factory=list)
    #: Back to back: each sender's seconds from its first send to its last answer.
    sender_seconds: list[float] = field(default_factory=list)
    #: Connections closed during the step, by close code (received, else sent).
    close_codes: Counter[str] = field(default_factory=Counter)
    #: Text frames received since the connections opened (every kind), and of them the
    #: presence frames (``presence`` and ``presence.batch``): the presence-storm workload.
    frames_total: int = 0
    presence_frames: int = 0

    def merge(self, other: StepResult) -> None:
        self.sent += other.sent
        self.sent_by_room.update(other.sent_by_room)
        self.received += other.received
        self.late += other.late
        self.latency.merge(other.latency)
        self.acks += other.acks
        self.ack_latency.merge(other.ack_latency)
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.closed += other.closed
        self.send_lag_max_ms = max(self.send_lag_max_ms, other.send_lag_max_ms)
        self.client_cpu_pct.extend(other.client_cpu_pct)
        self.sender_seconds.extend(other.sender_seconds)
        self.close_codes.update(other.close_codes)
        self.frames_total += other.frames_total
        self.presence_frames += other.presence_frames


class _Conn:
    __slots__ = ("ack_waiter", "answers", "reader", "spec", "wanted", "ws")

    def __init__(self, spec: ConnSpec, ws: ClientConnection) -> None:
        self.spec = spec
        self.ws = ws
        self.ack_waiter: asyncio.Future[None] | None = None
        self.reader: asyncio.Task[None] | None = None
        #: Answers (ack or error) received, and how many the waiter waits for (0: the next).
        self.answers = 0
        self.wanted = 0


class _Worker:
    """The asyncio side of one load-generator process."""

    def __init__(self, protocol: Protocol, base_url: str, origin: str) -> None:
        self.protocol = protocol
        self.base_url = base_url
        self.origin = origin
        self.conns: list[_Conn] = []
        self.current_step = -1
        self.result = StepResult()
        self.proc = psutil.Process()
        # Client ids must be new on every run: the app returns the stored message for a
        # known (room, sender, client id) instead of storing a new one.
        self.nonce = secrets.token_hex(4)
        #: Text frames received since the connections opened, and presence frames of them.
        self.frames_total = 0
        self.presence_frames = 0

    async def connect(
        self, specs: list[ConnSpec], concurrency: int, window: float = 0.0
    ) -> ConnectResult:
        """Open ``specs``, ``concurrency`` handshakes in flight; with ``window`` > 0 the
        handshakes start evenly spread over that many seconds (a lecture hall filling)."""
        result = ConnectResult()
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        gap = window / len(specs) if window > 0 and specs else 0.0

        async def open_one(index: int, spec: ConnSpec) -> None:
            if gap:
                await asyncio.sleep(max(0.0, started + index * gap - time.monotonic()))
            async with gate:
                t0 = time.monotonic()
                try:
                    ws = await connect(
                        self.base_url + self.protocol.path(spec.room, spec.credential),
                        origin=Origin(self.origin),
                        additional_headers=list(spec.headers),
                        compression="deflate" if spec.compress else None,
                        ping_interval=None,
                        open_timeout=60,
                        close_timeout=2,
                        max_size=2**20,
                    )
                except (OSError, WebSocketException, TimeoutError) as exc:
                    result.failed += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                    return
                result.handshake.add((time.monotonic() - t0) * 1e6)
                conn = _Conn(spec, ws)
                conn.reader = asyncio.create_task(self._read(conn))
                self.conns.append(conn)
                result.connected += 1
                result.members[spec.room] += 1

        await asyncio.gather(*(open_one(index, spec) for index, spec in enumerate(specs)))
        result.seconds = time.monotonic() - started
        return result

    async def _read(self, conn: _Conn) -> None:
        kind_of = self.protocol.kind
        try:
            async for frame in conn.ws:
                if not isinstance(frame, str):
                    continue
                self.frames_total += 1
                if frame.startswith('{"type":"presence'):
                    self.presence_frames += 1
                kind = kind_of(frame)
                if kind is FrameKind.DELIVERY:
                    probe = find_probe(frame)
                    if probe is None:
                        continue
                    result = self.result
                    if probe.step == self.current_step:
                        result.received += 1
                        result.latency.add((time.monotonic_ns() - probe.sent_ns) / 1000)
                    else:
                        result.late += 1
                elif kind is FrameKind.ACK or kind is FrameKind.ERROR:
                    if kind is FrameKind.ACK:
                        self.result.acks += 1
                        probe = find_probe(frame)
                        if probe is not None:
                            self.result.ack_latency.add(
                                (time.monotonic_ns() - probe.sent_ns) / 1000
                            )
                    else:
                        self.result.errors += 1
                        self.result.first_error = self.result.first_error or frame[:300]
                    conn.answers += 1
                    waiter = conn.ack_waiter
                    if waiter is not None and not waiter.done() and conn.answers >= conn.wanted:
                        waiter.set_result(None)
        except WebSocketException:
            pass
        self.result.closed += 1
        self.result.close_codes[str(conn.ws.close_code)] += 1

    def client_id(self, step: Step, sender: int, number: int) -> str:
        return f"{self.nonce}-{step.step}-{sender}-{number}"

    async def _send_open(self, conn: _Conn, step: Step, start_ns: int, result: StepResult) -> None:
        interval_ns = int(1e9 / step.rate)
        offset_ns = random.randrange(interval_ns)
        end_ns = start_ns + int(step.duration * 1e9)
        padding = "x" * step.padding
        sender, room = conn.spec.sender, conn.spec.room
        send_frame = self.protocol.send_frame
        number = 0
        while True:
            due_ns = start_ns + offset_ns + number * interval_ns
            if due_ns >= end_ns:
                return
            delay = (due_ns - time.monotonic_ns()) / 1e9
            if delay < 0:
                result.send_lag_max_ms = max(result.send_lag_max_ms, -delay * 1000)
            await asyncio.sleep(max(delay, 0.0))
            text = probe_text(step.step, sender, number, due_ns, padding)
            try:
                await conn.ws.send(send_frame(text, number, self.client_id(step, sender, number)))
            except WebSocketException:
                return
            result.sent += 1
            result.sent_by_room[room] += 1
            number += 1

    async def _send_closed(
        self, conn: _Conn, step: Step, start_ns: int, result: StepResult
    ) -> None:
        loop = asyncio.get_running_loop()
        end = start_ns / 1e9 + step.duration
        padding = "x" * step.padding
        sender, room = conn.spec.sender, conn.spec.room
        number = 0
        while time.monotonic() < end:
            waiter: asyncio.Future[None] = loop.create_future()
            conn.ack_waiter = waiter
            text = probe_text(step.step, sender, number, time.monotonic_ns(), padding)
            try:
                await conn.ws.send(
                    self.protocol.send_frame(text, number, self.client_id(step, sender, number))
                )
                await asyncio.wait_for(waiter, timeout=max(end - time.monotonic(), 0) + 10)
            except (WebSocketException, TimeoutError):
                return
            result.sent += 1
            result.sent_by_room[room] += 1
            number += 1

    async def _send_back_to_back(
        self, conn: _Conn, step: Step, start_ns: int, result: StepResult
    ) -> None:
        loop = asyncio.get_running_loop()
        padding = "x" * step.padding
        sender, room = conn.spec.sender, conn.spec.room
        waiter: asyncio.Future[None] = loop.create_future()
        conn.wanted = conn.answers + step.back_to_back
        conn.ack_waiter = waiter
        started = time.monotonic()
        try:
            for number in range(step.back_to_back):
                text = probe_text(step.step, sender, number, time.monotonic_ns(), padding)
                await conn.ws.send(
                    self.protocol.send_frame(text, number, self.client_id(step, sender, number))
                )
                result.sent += 1
                result.sent_by_room[room] += 1
            await asyncio.wait_for(waiter, timeout=BACK_TO_BACK_TIMEOUT)
        except (WebSocketException, TimeoutError):
            return
        finally:
            conn.wanted = 0
        result.sender_seconds.append(time.monotonic() - started)

    async def step(self, step: Step, start_ns: int) -> StepResult:
        self.result = result = StepResult()
        self.current_step = step.step
        await asyncio.sleep(max((start_ns - time.monotonic_ns()) / 1e9, 0.0))
        cpu0 = sum(self.proc.cpu_times()[:2])
        t0 = time.monotonic()
        send = self._send_closed if step.closed_loop else self._send_open
        if step.back_to_back:
            send = self._send_back_to_back
        senders = [
            send(conn, step, start_ns, result)
            for conn in self.conns
            if conn.spec.sender >= 0 and (step.closed_loop or step.rate > 0 or step.back_to_back)
        ]
        if senders:
            await asyncio.gather(*senders)
        else:
            await asyncio.sleep(step.duration)
        elapsed = max(time.monotonic() - t0, 1e-9)
        cpu = sum(self.proc.cpu_times()[:2]) - cpu0
        result.client_cpu_pct = [round(100.0 * cpu / elapsed, 1)]
        await asyncio.sleep(step.drain)
        result.frames_total = self.frames_total
        result.presence_frames = self.presence_frames
        return result

    async def close(self) -> None:
        async def close_one(conn: _Conn) -> None:
            with contextlib.suppress(Exception):
                await conn.ws.close()
            if conn.reader is not None:
                conn.reader.cancel()

        await asyncio.gather(*(close_one(conn) for conn in self.conns))
        self.conns.clear()


async def _serve(pipe: Connection, worker: _Worker, specs: list[ConnSpec]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        command, arg = await loop.run_in_executor(None, pipe.recv)
        reply: Any
        if command == "connect":
            concurrency, window = arg
            reply = await worker.connect(specs, concurrency, window)
        elif command == "step":
            step, start_ns = arg
            reply = await worker.step(step, start_ns)
        elif command == "close":
            await worker.close()
            pipe.send(None)
            return
        else:
            reply = ValueError(f"unknown command {command!r}")
        pipe.send(reply)


def _worker_main(
    pipe: Connection, protocol_name: str, base_url: str, origin: str, specs: list[ConnSpec]
) -> None:
    raise_nofile()
    worker = _Worker(PROTOCOLS[protocol_name](), base_url, origin)
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(pipe, worker, specs))
    else:
        uvloop.run(_serve(pipe, worker, specs))


class LoadGenerator:
    """Coordinator: starts the worker processes and merges what they report."""

    def __init__(
        self, protocol_name: str, port: int, specs: list[ConnSpec], processes: int = 1
    ) -> None:
        self.protocol_name = protocol_name
        self.base_url = f"ws://127.0.0.1:{port}"
        self.origin = f"http://127.0.0.1:{port}"
        self.specs = specs
        self.processes = max(1, min(processes, len(specs) or 1))
        self.members: Counter[int] = Counter()
        self._pipes: list[Connection] = []
        self._procs: list[multiprocessing.process.BaseProcess] = []

    def __enter__(self) -> LoadGenerator:
        ctx = multiprocessing.get_context("spawn")
        for index in range(self.processes):
            share = self.specs[index :: self.processes]
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main,
                args=(child, self.protocol_name, self.base_url, self.origin, share),
                daemon=True,
            )
            proc.start()
            self._pipes.append(parent)
            self._procs.append(proc)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ask(self, command: str, arg: Any, timeout: float) -> list[Any]:
        for pipe in self._pipes:
            pipe.send((command, arg))
        replies = []
        for pipe in self._pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"load generator did not answer {command!r} in {timeout}s")
            reply = pipe.recv()
            if isinstance(reply, Exception):
                raise reply
            replies.append(reply)
        return replies

    def connect(
        self, concurrency: int = 100, timeout: float = 600, window: float = 0.0
    ) -> ConnectResult:
        """Open every connection (``window``: spread the handshakes over that many s)."""
        total = ConnectResult()
        for reply in self._ask("connect", (concurrency, window), timeout):
            total.merge(reply)
        self.members = total.members
        return total

    def step(self, step: Step) -> StepResult:
        start_ns = time.monotonic_ns() + 300_000_000
        total = StepResult()
        timeout = step.duration + step.drain + 60
        if step.back_to_back:
            timeout += BACK_TO_BACK_TIMEOUT
        for reply in self._ask("step", (step, start_ns), timeout):
            total.merge(reply)
        return total

    def expected(self, result: StepResult) -> int:
        """Deliveries owed for ``result``: each message goes to every member of its room."""
        return sum(sent * self.members[room] for room, sent in result.sent_by_room.items())

    def close(self) -> None:
        if not self._procs:
            return
        with contextlib.suppress(TimeoutError, OSError, EOFError):
            self._ask("close", None, 60)
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        self._procs.clear()
        self._pipes.clear()
