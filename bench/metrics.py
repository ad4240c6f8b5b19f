"""Latency histograms that merge across processes, and server resource sampling."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil

_BASE = math.log(1.01)


@dataclass
class Histogram:
    """Log-bucketed latencies in microseconds (1 % wide buckets: percentiles within 1 %).

    Small and picklable, so each load-generator process keeps its own and the coordinator
    adds them up; ``max_us`` is exact.
    """

    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    max_us: float = 0.0

    def add(self, micros: float) -> None:
        micros = max(micros, 1.0)
        self.buckets[int(math.log(micros) / _BASE)] += 1
        self.count += 1
        if micros > self.max_us:
            self.max_us = micros

    def merge(self, other: Histogram) -> None:
        self.buckets.update(other.buckets)
        self.count += other.count
        self.max_us = max(self.max_us, other.max_us)

    def percentile(self, pct: float) -> float | None:
        if not self.count:
            return None
        rank = math.ceil(self.count * pct / 100.0)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return min(math.exp((bucket + 1) * _BASE), self.max_us)
        return self.max_us

    def summary_ms(self) -> dict[str, float | None]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value / 1000.0, 2)

        return {
            "p50_ms": ms(self.percentile(50)),
            "p99_ms": ms(self.percentile(99)),
            "max_ms": ms(self.max_us if self.count else None),
        }


def nearest_rank_ms(samples_s: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile ``fraction`` of durations in seconds, in milliseconds."""
    if not samples_s:
        return None
    ordered = sorted(samples_s)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1] * 1000, 2)


def percentiles_ms(samples_s: list[float]) -> dict[str, float | None]:
    """p50/p99/max of a small list of durations in seconds, in milliseconds."""
    hist = Histogram()
    for sample in samples_s:
        hist.add(sample * 1e6)
    return hist.summary_ms()


class ResourceSampler:
    """Samples CPU and RSS of a process tree (a server and its workers) in a thread.

    ``mark()`` opens a window; ``window()`` returns the mean CPU (in % of one core) and the
    largest RSS seen since the mark. CPU is measured from ``cpu_times`` deltas, so short
    windows are exact rather than averaged samples.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._max_rss = 0
        self._mark_cpu = 0.0
        self._mark_time = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self._tree():
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def rss(self) -> int:
        total = 0
        for proc in self._tree():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = self.rss()
            with self._lock:
                self._max_rss = max(self._max_rss, rss)

    def start(self) -> ResourceSampler:
        self.mark()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def mark(self) -> None:
        with self._lock:
            self._max_rss = self.rss()
            self._mark_cpu = self.cpu_seconds()
            self._mark_time = time.monotonic()

    def window(self) -> dict[str, float]:
        cpu = self.cpu_seconds()
        with self._lock:
            elapsed = max(time.monotonic() - self._mark_time, 1e-9)
            return {
                "server_cpu_pct": round(100.0 * (cpu - self._mark_cpu) / elapsed, 1),
                "server_rss_mib": round(max(self._max_rss, self.rss()) / 2**20, 1),
            }
