"""Editor latency: didChange -> publishDiagnostics on a 5,000-line model over real JSON-RPC.

`modelc lsp` runs as a subprocess, driven by pytest-lsp's client (pygls). One file of about 5,000
lines (generated units, no imports) is opened; then small incremental edits are sent one at a time,
each after a pause longer than the server's debounce delay (so each is analysed at once, as when a
user stops typing), and the time until the diagnostics of that file arrive is recorded. Three kinds
of edit alternate: a character typed into a comment, a keyword broken (a syntax error appears) and
repaired (it disappears), and an entity name changed so that a reference breaks (a semantic error).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import gen_model
from lsprotocol import types

PAUSE = 0.3  # seconds between edits: more than the server's debounce delay (0.15 s)


def five_thousand_lines(lines: int = 5000, seed: int = 3) -> str:
    import random

    rng = random.Random(seed)
    parts = [
        "## A synthetic model of about 5,000 lines in one file.\nmodel synth\n\n"
        "dimension date calendar 2020-01-01 .. 2030-12-31\n"
    ]
    n, u = 4, 0
    while n < lines:
        sources, star, vault = gen_model._unit(u, rng)
        chunk = "\n".join((sources, star, vault))
        parts.append(chunk)
        n += chunk.count("\n") + 1
        u += 1
    return "\n".join(parts)


def _edits(text: str):
    """An endless cycle of (label, range, new text, expected: has errors) incremental edits."""
    lines = text.split("\n")
    comment = next(i for i, line in enumerate(lines) if line.startswith("## Customers of system"))
    scd2 = next(i for i, line in enumerate(lines) if line.startswith("  scd2 "))
    ref = next(i for i, line in enumerate(lines) if line.startswith("  customer -> customer_"))
    rng = types.Range
    pos = types.Position
    end = len(lines[comment])
    arrow = lines[ref].index("customer_")
    while True:
        yield "type in a comment", rng(pos(comment, end), pos(comment, end)), "x", False
        yield "delete it again", rng(pos(comment, end), pos(comment, end + 1)), "", False
        yield "break a keyword", rng(pos(scd2, 2), pos(scd2, 6)), "scdd", True
        yield "repair it", rng(pos(scd2, 2), pos(scd2, 6)), "scd2", False
        yield "break a reference", rng(pos(ref, arrow), pos(ref, arrow + 9)), "customerX", True
        yield "repair it", rng(pos(ref, arrow), pos(ref, arrow + 9)), "customer_", False


async def _measure(workdir: Path, warmup: int, samples: int, env: dict) -> dict:
    from pytest_lsp import ClientServerConfig

    text = five_thousand_lines()
    path = workdir / "big.dm"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    config = ClientServerConfig(server_command=[sys.executable, "-m", "modelc", "lsp"], server_env=env)
    client = await config.start()
    await client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))

    async def published() -> types.PublishDiagnosticsParams:
        while True:
            note = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if note.uri == uri:
                return note

    t = time.perf_counter()
    waiter = asyncio.ensure_future(published())
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="dm", version=1, text=text))
    )
    first = await asyncio.wait_for(waiter, 60)
    open_seconds = time.perf_counter() - t
    assert not [d for d in first.diagnostics if d.severity == types.DiagnosticSeverity.Error], first.diagnostics[:3]
    times: dict[str, list[float]] = {}
    version = 1
    edits = _edits(text)
    for i in range(warmup + samples):
        label, where, new, broken = next(edits)
        await asyncio.sleep(PAUSE)
        version += 1
        waiter = asyncio.ensure_future(published())
        t = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangePartial(range=where, text=new)],
            )
        )
        note = await asyncio.wait_for(waiter, 60)
        elapsed = time.perf_counter() - t
        errors = [d for d in note.diagnostics if d.severity == types.DiagnosticSeverity.Error]
        assert bool(errors) == broken, (label, errors[:3])
        if i >= warmup:
            times.setdefault(label, []).append(elapsed)
    await client.shutdown_session()
    return {"lines": text.count("\n") + 1, "open_seconds": open_seconds, "times": times}


def measure(workdir: Path, env: dict, warmup: int = 6, samples: int = 60) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_measure(workdir, warmup, samples, env))
