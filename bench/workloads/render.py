"""Formatting: the cost of rendering a message when it is written (docs/formatting.md).

In process, no server: ``smartcampus_chat.markup.render`` over representative
messages (plain chat lines, Markdown, code, maths, tables), the XSS corpus, and hostile
inputs at the length limit (4,000 characters of brackets, asterisks, links...). Per class:
µs per message, p50, p95 and max.
"""

from __future__ import annotations

import importlib
import statistics
import time
from typing import Any

from bench import django_side
from bench.runner import RunContext

TITLE = "Formatting: rendering cost per message at write"

CLASSES: dict[str, list[str]] = {
    "plain": [
        "ok see you at 10",
        "Does anyone have the notes from Tuesday's lecture? I missed the second half.",
        "Thanks! That makes sense now.",
    ],
    "markdown": [
        "**Reminder:** the lab report is due *Friday*, see https://uni.example/lab",
        "> is the exam open book?\n\nNo, but you may bring one sheet of notes.",
        "- read chapter 3\n- do exercises 1-4\n- `git push` before 18:00",
    ],
    "code": [
        "```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n\nprint(mean([1, 2, 3]))\n```",
        "```sql\nSELECT name, count(*) FROM enrolment GROUP BY name HAVING count(*) > 3;\n```",
    ],
    "maths": [
        "The derivative of $x^n$ is $n x^{n-1}$.",
        "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$",
        "Euler: $e^{i\\pi} + 1 = 0$, and $\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$",
    ],
    "table": ["| day | room | time |\n|:--|:-:|--:|\n| Mon | B12 | 10:00 |\n| Fri | A3 | 14:00 |"],
    "hostile-4000": [
        "[" * 4000,
        "[](" * 1333,
        "**a" * 1333,
        "http://a.b " * 363,
        "![" * 2000,
        "a\n" * 2000,
        "```python\n" + "x = [1, 'a', {2: 3}]\n" * 190 + "```",
        "$x$ " * 1000,
    ],
}


def _time(render: Any, texts: list[str], rounds: int) -> list[float]:
    samples: list[float] = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            render(text)
            samples.append(time.perf_counter() - started)
    return samples


def _row(name: str, count: int, samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "workload": "render",
        "class": name,
        "messages": count,
        "samples": len(samples),
        "mean_us": round(statistics.fmean(samples) * 1e6, 1),
        "p50_us": round(ordered[len(ordered) // 2] * 1e6, 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95)] * 1e6, 1),
        "max_us": round(ordered[-1] * 1e6, 1),
    }


def measure(rounds: int, corpus_rounds: int) -> list[dict[str, Any]]:
    """In the Django child (the renderer reads the ``MATHS`` setting)."""
    from smartcampus_chat.markup import render

    corpus = [p.text for p in importlib.import_module("tests.xss_corpus").PAYLOADS]
    render("warm up: **x** `y` $z$ ```python\nx\n```")
    rows = [_row(name, len(texts), _time(render, texts, rounds)) for name, texts in CLASSES.items()]
    rows.append(_row("xss-corpus", len(corpus), _time(render, corpus, corpus_rounds)))
    return rows


def run(ctx: RunContext) -> list[dict[str, Any]]:
    rows = django_side.call(
        ctx.database_url, measure, 5 if ctx.quick else 50, 1 if ctx.quick else 3
    )
    ctx.log("render: " + ", ".join(f"{r['class']} p50 {r['p50_us']} µs" for r in rows))
    return rows
