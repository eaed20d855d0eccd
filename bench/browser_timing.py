"""Submit → next pair playable in a real browser, with and without prefetching the next clips.

Renders a tiny pool at the default 480×480, starts a real `robopref serve` on loopback and
drives the comparison page in Debian's headless chromium (Playwright; never `playwright
install`): an annotator watches each pair for `--think-s`, answers with the keys (L, 3,
Enter) and the page marks `submit` and then `playable` for the next pair. The figure is the
gap between the two marks, from the page's own performance timeline, as p50 / p95 over
`--pairs` answers per run; runs cover prefetch on / off, on plain loopback and under an
emulated link (`--latency-ms` round trip, `--mbit` down and up). Printed, never asserted.

    .venv/bin/python bench/browser_timing.py [--pairs 20] [--think-s 1.0]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import robopref.pool
from robopref.pairs import PairsConfig, select_calibration_sets, select_pairs
from robopref.render import RenderConfig, render_pool
from robopref.store import (
    add_annotator,
    create_batch,
    open_store,
    record_certification,
    sync_trajectories,
)
from robopref.testing import tiny_pool
from robopref.testing.serving import CHROMIUM, CHROMIUM_ARGS, serve_process

SECRET = "bench-secret-0123456789abcdef"
MAX_PAIRS = 60
"""Bound on --pairs (each run answers that many pairs)."""
GAPS_JS = """() => {
    const marks = performance.getEntriesByType('mark');
    const playable = new Map(marks.filter(m => m.name === 'playable')
        .map(m => [m.detail.pair, m.startTime]));
    const nexts = performance.getEntriesByType('resource')
        .filter(r => r.name.endsWith('/api/next'));
    return marks.filter(m => m.name === 'submit' && playable.has(m.detail.pair + 1))
        .map(m => {
            const ready = playable.get(m.detail.pair + 1);
            const next = nexts.find(r => r.startTime >= m.startTime && r.responseEnd <= ready);
            const api = next ? next.responseEnd - m.startTime : NaN;
            return [ready - m.startTime, api];
        });
}"""
"""Per answer: [submit → next playable, submit → /api/next answered] in ms."""


class Run(NamedTuple):
    """One measured configuration."""

    link: str
    prefetch: bool
    gaps_ms: list[list[float]]
    """Per answer: submit → next playable, and the part spent on submit + next (ms)."""


def prepare(root: Path, annotators: list[str], pairs: int) -> tuple[str, Path, dict[str, str]]:
    """A rendered pool and a store where each annotator has `pairs` production pairs."""
    pool = tiny_pool(root / "pool", n=16, n_steps=40).root
    render_pool(pool, RenderConfig(workers=1))
    manifest = robopref.pool.open(pool).manifest
    url = f"sqlite:///{root / 'bench.db'}"
    store = open_store(url)
    sync_trajectories(store, manifest)
    tokens = {a: add_annotator(store, a) for a in annotators}
    calibration = select_calibration_sets(manifest, PairsConfig(calibration_size=2,
                                                                calibration_sets=1))[0]
    create_batch(store, calibration.batch)
    for annotator_id in annotators:
        record_certification(store, annotator_id=annotator_id, kappa=1.0, passed=True,
                             calibration_batch_id=calibration.batch.batch_id)
    config = PairsConfig(batch_size=pairs, annotators_per_pair=len(annotators),
                         duplicate_frac=0.0)
    create_batch(store, select_pairs(manifest, config, annotator_ids=annotators))
    store.dispose()
    return url, pool, tokens


def measure(browser: Any, base: str, token: str, *, prefetch: bool, pairs: int,
            think_s: float, link: dict[str, float] | None) -> list[list[float]]:
    """Answer `pairs` pairs on /annotate; the submit → next playable gaps in ms."""
    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
    context.request.post("/api/session", data={"token": token})
    page = context.new_page()
    if link is not None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **link})
    page.goto(f"/annotate?prefetch={int(prefetch)}")
    for n in range(1, pairs + 1):
        page.wait_for_function("n => performance.getEntriesByName('playable').length >= n",
                               arg=n, timeout=30_000)
        page.wait_for_timeout(think_s * 1000)
        for key in ("l", "3", "Enter"):
            page.keyboard.press(key)
    page.wait_for_function("n => performance.getEntriesByName('playable').length >= n",
                           arg=pairs + 1, timeout=30_000)  # the pair after the last answer
    gaps: list[list[float]] = page.evaluate(GAPS_JS)
    context.close()
    return gaps


def report(runs: list[Run]) -> None:
    """One line per run: p50 / p95 / max of the gap, and p50 / p95 of its API part."""
    print(f"{'link':<30} {'prefetch':>8} {'n':>3} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
          f"  {'API p50':>7} {'API p95':>7}")
    for run in runs:
        gaps = np.asarray(run.gaps_ms, dtype=float).reshape(-1, 2)
        if len(gaps) == 0:
            print(f"{run.link:<30} no answers measured")
            continue
        p50, p95 = np.percentile(gaps[:, 0], [50, 95])
        api50, api95 = np.nanpercentile(gaps[:, 1], [50, 95])
        print(f"{run.link:<30} {'on' if run.prefetch else 'off':>8} {len(gaps):>3} "
              f"{p50:>7.1f} {p95:>7.1f} {gaps[:, 0].max():>7.1f}  {api50:>7.1f} {api95:>7.1f}")
    print("API: submit → /api/next answered (two round trips); the rest is the clips "
          "becoming playable")


def main() -> None:
    """Parse the options, run every configuration, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help=f"answers per run (≤ {MAX_PAIRS})")
    parser.add_argument("--think-s", type=float, default=1.0, help="watching time per pair")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="emulated round trip")
    parser.add_argument("--mbit", type=float, default=8.0, help="emulated link, Mbit/s")
    args = parser.parse_args()
    if not 2 <= args.pairs <= MAX_PAIRS or args.think_s < 0:
        raise SystemExit(f"--pairs must be in [2, {MAX_PAIRS}] and --think-s ≥ 0")
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    bytes_per_s = args.mbit * 1e6 / 8
    links: list[tuple[str, dict[str, float] | None]] = [
        ("loopback", None),
        (f"{args.latency_ms:g} ms RTT, {args.mbit:g} Mbit/s",
         {"latency": args.latency_ms, "downloadThroughput": bytes_per_s,
          "uploadThroughput": bytes_per_s}),
    ]
    plan = [(name, link, prefetch) for name, link in links for prefetch in (True, False)]
    annotators = [f"bench-{i}" for i in range(len(plan))]
    with tempfile.TemporaryDirectory() as tmp:
        db_url, pool, tokens = prepare(Path(tmp), annotators, args.pairs + 1)
        log = Path(tmp) / "serve.log"
        with serve_process(db_url, pool, secret=SECRET, log=log) as base, \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            runs = [Run(name, prefetch, measure(browser, base, tokens[annotator],
                                                prefetch=prefetch, pairs=args.pairs,
                                                think_s=args.think_s, link=link))
                    for annotator, (name, link, prefetch) in zip(annotators, plan, strict=True)]
            browser.close()
    print(f"submit → next pair playable (page marks), {args.pairs} answers per run, "
          f"{args.think_s:g} s watching each pair, 480×480 clips")
    report(runs)


if __name__ == "__main__":
    main()
