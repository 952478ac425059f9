"""The board under a firehose: long replies streaming into many columns at once.

The demo provider (a process of its own) writes the replies: ``tokens=N`` for a long
reply of prose and lists, and ``echo`` of a generated document with code blocks and
tables (``stress_document``) for the heavy one. Its streamed tokens are then replayed in
Debian's Chromium (Playwright, headless, 1600×1000) into the board's own bundle
(``widgets/static/board.js``), mounted in a plain page on a stand-in for the kernel's
model; every column gets the reply at ``--tps`` tokens a second. What it measures:

- the main thread's busy share during the stream (CDP ``Performance.getMetrics``);
- long tasks (PerformanceObserver ``longtask``): count, total, longest, and the longest
  once the replies end (the final checks);
- frames (requestAnimationFrame): per second, mean and worst, and the longest gap;
- display lag, from when an event was due to the first frame after the draw that put
  its text in the DOM (the board leaves a performance mark per draw, view/probe.js), and
  how late events were handled;
- DOM nodes of the board and of the largest reply, and the JS heap after a collection.

    .venv/bin/python bench/board_firehose.py                 # 3 and 8 columns, 20,000 tokens
    .venv/bin/python bench/board_firehose.py --runs 2 --columns 8 --scenario code
    .venv/bin/python bench/board_firehose.py --smoke         # seconds: tiny replies
    .venv/bin/python bench/board_firehose.py --columns 8 --tokens 20000 --prefill 17000
    .venv/bin/python bench/board_firehose.py --columns 8 --tokens 3000 --trace /tmp/t.json
    .venv/bin/python bench/board_firehose.py --columns 8 --tokens 3000 --profile /tmp/p.cpuprofile

``--prefill N`` draws each reply's first N tokens at once and measures the rest of the
stream: ``--tokens 20000 --prefill 17000`` times the last 3,000 tokens of a 20,000-token
reply (12 seconds of stream) — the costs that grow with a reply's length, in a short run.

``--trace`` records a Chromium trace of the stream (open it in DevTools' Performance
panel) and prints where the main thread's time went, by kind of work (self time of each
trace event: script, style, layout, paint, …); ``--profile`` records a CPU profile of the
page's script and prints the functions that took the most time. Both with one scenario,
one column count and one run; the run's own figures then include the recording's cost.

The JupyterLab path (the same bundle in a notebook) is checked for equal rendering by
tests/browser/test_board_render.py, not timed here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import REPO, median

from server_ext.demo_provider.replies import stress_document
from tests.support import chromium
from tests.support.providers import DemoProvider

BUNDLE = REPO / "widgets" / "static"
PAGE_JS = Path(__file__).with_name("board_firehose_page.js")
ORIGIN = "http://bench.invalid"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="board.css"><script type="module" src="page.js"></script>
</head><body><div id="board"></div></body></html>"""
# CDP's cumulative main-thread times: all tasks, and the parts of them named here.
BREAKDOWN = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
TARGETS = {
    "busy_pct": 35,
    "longest_task_ms": 50,
    "worst_fps": 50,
    "lag_p95_ms": 100,
    "nodes_per_reply": 10_000,
    "after_end_ms": 100,
}


def reply_tokens(provider: DemoProvider, scenario: str, tokens: int, blocks: int) -> list[str]:
    """The reply's tokens, as the demo provider streams them."""
    if scenario == "code":
        model = f"demo-swift;echo;tokens={tokens};tps=0"
        content = stress_document(tokens, code_blocks=blocks, tables=blocks)
    else:
        model = f"demo-swift;tokens={tokens};tps=0"
        content = "Explain how to keep a dashboard fast."
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": content}]}
    out: list[str] = []
    with httpx.stream("POST", provider.url + "/chat/completions", json=body, timeout=60) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[6:]).get("choices", []):
                text = (choice.get("delta") or {}).get("content")
                if text:
                    out.append(text)
    return out


def serve(route, bundle: Path = BUNDLE) -> None:
    name = route.request.url.removeprefix(ORIGIN + "/").split("?")[0]
    if name in ("", "index.html"):
        route.fulfill(body=PAGE, content_type="text/html")
    elif name == "page.js":
        route.fulfill(body=PAGE_JS.read_text(), content_type="text/javascript")
    elif name in ("board.js", "board.css"):
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        route.fulfill(body=(bundle / name).read_text(), content_type=kind)
    else:
        route.fulfill(status=404, body="")


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


# What a trace records: the timeline's events (tasks, script, style, layout, paint).
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "blink",
    "cc",
    "gpu",
    "disabled-by-default-v8.gc",
]


def trace_summary(trace: dict, top: int = 25) -> list[tuple[str, float, int]]:
    """Self time of each kind of trace event on the page's main thread, longest first:
    (name, ms, count)."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans = sorted(
        (
            (e["ts"], e["ts"] + e["dur"], e["name"])
            for e in events
            if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in main and e.get("dur")
        ),
        key=lambda span: (span[0], -span[1]),
    )
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    stack: list[list] = []  # [end, name, self time]

    def close(until: float) -> None:
        while stack and stack[-1][0] <= until:
            _, name, own = stack.pop()
            total[name] = total.get(name, 0.0) + own
            count[name] = count.get(name, 0) + 1

    for start, end, name in spans:
        close(start)
        if stack:
            stack[-1][2] -= min(end, stack[-1][0]) - start
        stack.append([end, name, end - start])
    close(float("inf"))
    ranked = sorted(total.items(), key=lambda item: -item[1])[:top]
    return [(name, us / 1000, count[name]) for name, us in ranked]


def profile_summary(profile: dict, top: int = 30) -> list[tuple[str, float]]:
    """Self time of each function of a CPU profile, longest first: (function, ms)."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    own: dict[int, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        own[node_id] = own.get(node_id, 0.0) + delta
    by_name: dict[str, float] = {}
    for node_id, us in own.items():
        frame = nodes[node_id]["callFrame"]
        url = frame["url"].rsplit("/", 1)[-1]
        where = f" {url}:{frame['lineNumber'] + 1}" if url else ""
        name = f"{frame['functionName'] or '(anonymous)'}{where}"
        by_name[name] = by_name.get(name, 0.0) + us
    ranked = sorted(by_name.items(), key=lambda item: -item[1])[:top]
    return [(name, us / 1000) for name, us in ranked]


def run_once(
    browser,
    tokens: list[str],
    columns: int,
    tps: float,
    settle_ms: int,
    bundle: Path,
    trace: Path | None = None,
    profile: Path | None = None,
    prefill: int = 0,
) -> dict:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.route(ORIGIN + "/**", lambda route: serve(route, bundle))
        page.goto(ORIGIN + "/index.html")
        page.wait_for_function("typeof window.runFirehose === 'function'")
        # Wall-clock task times, and the main thread's own CPU time (on a machine shared
        # with other work, a task's wall time includes the time it waited for a core).
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
        cpu = page.context.new_cdp_session(page)
        cpu.send("Performance.enable", {"timeDomain": "threadTicks"})
        page.evaluate(
            "args => { window.firehose = null; window.firehosePrefilled = false; "
            "window.runFirehose(args).then("
            "r => { window.firehose = r; }, e => { window.firehose = {error: String(e)}; }); }",
            {
                "columns": columns,
                "tokens": tokens,
                "tps": tps,
                "settleMs": settle_ms,
                "prefill": prefill,
            },
        )
        if prefill:
            page.wait_for_function("window.firehosePrefilled === true", timeout=600_000)
        if trace:
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        if profile:
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 250})
            cdp.send("Profiler.start")
        before, cpu0, wall0 = metrics(cdp), metrics(cpu), time.monotonic()
        stream_s = (len(tokens) - prefill) / tps
        time.sleep(stream_s)
        after, cpu1, wall1 = metrics(cdp), metrics(cpu), time.monotonic()
        if trace:
            data = browser.stop_tracing()
            trace.write_bytes(data)
            seconds = wall1 - wall0
            print(f"trace of {seconds:.1f} s written to {trace}; main thread, self time:")
            for name, spent, n in trace_summary(json.loads(data)):
                share = spent / 10 / seconds
                print(f"  {spent:9.0f} ms  {share:5.1f} %  {n:7d}  {name}")
        if profile:
            recorded = cdp.send("Profiler.stop")["profile"]
            profile.write_text(json.dumps(recorded))
            print(f"CPU profile written to {profile}; functions, self time:")
            for name, spent in profile_summary(recorded):
                print(f"  {spent:9.0f} ms  {name}")
        page.wait_for_function("window.firehose !== null", timeout=(stream_s + 120) * 1000)
        result = page.evaluate("window.firehose")
        if "error" in result:
            raise RuntimeError(result["error"])
        cdp.send("HeapProfiler.collectGarbage")
        result["heapMb"] = metrics(cdp)["JSHeapUsedSize"] / 2**20
        share = {k: 100 * (after[k] - before[k]) / (wall1 - wall0) for k in BREAKDOWN}
        result["busyPct"] = share.pop("TaskDuration")
        result["busyShares"] = share
        result["cpuPct"] = 100 * (cpu1["TaskDuration"] - cpu0["TaskDuration"]) / (wall1 - wall0)
        result["load"] = os.getloadavg()[0]
        result["prefill"] = prefill
        return result
    finally:
        page.close()


def factor(scenario: str) -> float:
    """The code-and-tables reply has twice the targets' room."""
    return 2.0 if scenario == "code" else 1.0


def report(scenario: str, columns: int, run: int, r: dict, tokens: int) -> None:
    lag, fps, tasks, dom = r["lagMs"], r["fps"], r["longTasks"], r["dom"]
    shares = r["busyShares"]
    room = factor(scenario)

    def verdict(value: float | None, target: float, higher_is_better: bool = False) -> str:
        if value is None:
            return "n/a"
        ok = value >= target / room if higher_is_better else value <= target * room
        return "met" if ok else "MISSED"

    print(
        f"{scenario:5} {columns} cols run {run}: busy {r['busyPct']:.0f}% "
        f"({verdict(r['busyPct'], TARGETS['busy_pct'])}; "
        f"script {shares['ScriptDuration']:.0f}%, layout {shares['LayoutDuration']:.0f}%, "
        f"style {shares['RecalcStyleDuration']:.0f}%; main-thread CPU {r['cpuPct']:.0f}%, "
        f"load average {r['load']:.1f}), "
        f"long tasks {tasks['count']} / {tasks['totalMs']:.0f} ms, "
        f"longest {tasks['maxMs']:.0f} ms "
        f"({verdict(tasks['maxMs'], TARGETS['longest_task_ms'])}), "
        f"fps mean {fps['mean'] or 0:.1f} worst {fps['worst']} "
        f"({verdict(fps['worst'], TARGETS['worst_fps'], higher_is_better=True)}), "
        f"longest frame gap {fps['longestGapMs']:.0f} ms, "
        f"lag p50/p95/max {lag['p50'] or 0:.0f}/{lag['p95'] or 0:.0f}/{lag['max'] or 0:.0f} ms "
        f"({verdict(lag['p95'], TARGETS['lag_p95_ms'])}), "
        f"event wait p95/max {r['eventWaitMs']['p95'] or 0:.1f}/{r['eventWaitMs']['max']:.1f} ms, "
        f"after the end longest {r['afterEndMaxMs']:.0f} ms "
        f"({verdict(r['afterEndMaxMs'], TARGETS['after_end_ms'])}), "
        f"DOM board {dom['board']:,} / largest reply {dom['perReplyMax']:,} nodes "
        f"({dom['board'] / columns:,.0f} per reply, "
        f"{verdict(dom['board'] / columns, TARGETS['nodes_per_reply'])}), "
        f"heap {r['heapMb']:.1f} MB, following {r['atBottom']}/{r['columns']} columns, "
        f"tables {r['tables']['count']} ({r['tables']['scrolling']} wider than their column, "
        f"{r['tables']['brokenNumbers']} of {r['tables']['numbers']} numbers broken), "
        f"{r['events']:,} events ({tokens:,} tokens a reply"
        + (f", the first {r['prefill']:,} at once" if r.get("prefill") else "")
        + ")"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", type=int, nargs="+", default=[3, 8])
    parser.add_argument("--scenario", choices=["plain", "code"], nargs="+", default=None)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--blocks", type=int, default=50, help="code blocks and tables (code)")
    parser.add_argument("--tps", type=float, default=250)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--settle-ms", type=int, default=3000)
    parser.add_argument("--smoke", action="store_true", help="tiny replies, one run: seconds")
    parser.add_argument("--json", action="store_true", help="also print every run as JSON")
    parser.add_argument(
        "--bundle",
        type=Path,
        default=BUNDLE,
        help="a folder with board.js and board.css (another build, to compare)",
    )
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="tokens of each reply drawn at once before the measured stream (its rest)",
    )
    parser.add_argument("--trace", type=Path, help="write a Chromium trace of the stream here")
    parser.add_argument("--profile", type=Path, help="write a CPU profile of the stream here")
    args = parser.parse_args()
    if args.smoke:
        args.columns, args.tokens, args.blocks, args.runs = [2], 300, 2, 1
        args.settle_ms = 500
    scenarios = args.scenario or ["plain", "code"]
    if (args.trace or args.profile) and (len(scenarios) * len(args.columns) * args.runs > 1):
        parser.error("--trace and --profile take one scenario, one column count and one run")
    if not (args.bundle / "board.js").exists():
        print("widgets/static/board.js is missing: run `make install-test`", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        provider = DemoProvider(Path(tmp), record=False).start()
        try:
            replies = {s: reply_tokens(provider, s, args.tokens, args.blocks) for s in scenarios}
        finally:
            provider.stop()
    results: list[dict] = []
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            for scenario in scenarios:
                for columns in args.columns:
                    for run in range(1, args.runs + 1):
                        r = run_once(
                            browser,
                            replies[scenario],
                            columns,
                            args.tps,
                            args.settle_ms,
                            args.bundle,
                            args.trace,
                            args.profile,
                            min(args.prefill, len(replies[scenario]) - 1),
                        )
                        r["targetFactor"] = factor(scenario)
                        report(scenario, columns, run, r, len(replies[scenario]))
                        results.append({"scenario": scenario, "columns": columns, **r})
        finally:
            browser.close()
    if args.runs > 1:
        for scenario in scenarios:
            for columns in args.columns:
                mine = [
                    r for r in results if r["scenario"] == scenario and r["columns"] == columns
                ]
                print(
                    f"{scenario:5} {columns} cols median: busy "
                    f"{median([r['busyPct'] for r in mine]):.0f}%, longest task "
                    f"{median([r['longTasks']['maxMs'] for r in mine]):.0f} ms, lag p95 "
                    f"{median([r['lagMs']['p95'] or 0 for r in mine]):.0f} ms"
                )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
