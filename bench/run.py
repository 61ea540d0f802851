"""The benchmark: `python bench/run.py [--files 1000 10000] [--seed 1] [--repeat 3]`.

For each vault size it generates a synthetic vault (bench/generate.py) and measures, each as a fresh
`mdtracker` process (interpreter start included): cold sync (no cache), warm sync with nothing changed, warm
sync after one note changed, check, warm sync with one broken note (an unclosed region, which every sync
reports), warm sync after one note changed in a vault with a dashboard (regions on the whole vault),
report --json, a cold sync on one core, the first sync of the vault as generated (it rewrites every note's
stale cookies) with the sync after it, and a sync on a new day when 5 % of the notes show the day of their
last sync (a `last-updated` region) with the sync after it, each the median of `--repeat` runs. Wall time, CPU
time (user + system, all processes) and peak memory (the largest process).
Beside them, the floors measured in the same run on the same files, as many times (medians): reading every
file, and markdown-it-py's parse of every file as mdtracker configures it (block level), on one core and on
all cores. Prints the ratios. Then, on 1,000 and on 10,000 notes (`--watch-files`), the edit-to-region latency
of `mdtracker watch` (median and 95th percentile over 100 saves) and its CPU use while idle, over 65 s
(`--idle`): long enough to hold one of the looks at every note it takes once a minute. And the dashboard of
a generated vault, its caches warm (`--dashboard-files`), and of a vault in a git repository with a year of
daily commits (`--git-files`, `--commits`), first run and warm. And `mdtracker lsp` on a note of a generated
vault (`--lsp-files`, `--keystrokes`): start to first diagnostics, a keystroke to its diagnostics and to fresh
inlay hints, and the server's memory.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

MDTRACKER = [sys.executable, "-m", "mdtracker"]


def measure(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) of one command run in a process of its own, through a fresh wrapper."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "wall = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([wall, r.ru_utime + r.ru_stime, r.ru_maxrss / 1024]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=True)
    wall, cpu, peak = __import__("json").loads(out.stdout)
    return wall, cpu, peak


def _parse_batch(paths: list[str]) -> int:
    from mdtracker.parse import markdown_parser

    md = markdown_parser()
    return sum(len(md.parse(Path(p).read_text("utf-8"))) for p in paths)


def floors(vault: Path) -> dict[str, float]:
    from mdtracker.discovery import discover

    paths = [p for p, _ in discover(vault)]
    t = time.perf_counter()
    for p in paths:
        Path(p).read_bytes()
    read = time.perf_counter() - t
    t = time.perf_counter()
    _parse_batch(paths)
    one = time.perf_counter() - t
    cores = os.cpu_count() or 1
    t = time.perf_counter()
    size = max(8, min(64, len(paths) // (cores * 8)))
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_parse_batch, [paths[i:i + size] for i in range(0, len(paths), size)]))
    many = time.perf_counter() - t
    return {"read": read, "parse1": one, "parseN": many}


def bench(files: int, seed: int, repeat: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"mdtracker-bench-{files}-"))
    try:
        generate.generate(folder, files, seed)  # every note's cookies stale, as in a vault never synced
        rows: list[tuple[str, tuple[float, float, float]]] = []
        first, after = [], []
        for _ in range(repeat):  # a first sync writes most notes: each run on a copy of the generated vault
            copy = folder.with_name(folder.name + "-first")
            shutil.copytree(folder, copy)
            first.append(measure([*MDTRACKER, "sync", str(copy)], copy))
            after.append(measure([*MDTRACKER, "sync", str(copy)], copy))
            shutil.rmtree(copy)
        subprocess.run([*MDTRACKER, "sync", str(folder)], stdout=subprocess.DEVNULL, check=True)  # regions fresh
        size = sum(p.stat().st_size for p in folder.rglob("*.md")) / 1e6
        # the floors vary from run to run as much as we do: measure them as often, and compare medians
        measured = [floors(folder) for _ in range(repeat)]
        floor = {name: statistics.median(m[name] for m in measured) for name in measured[0]}

        def cold(*extra: str) -> tuple[float, float, float]:
            shutil.rmtree(folder / ".mdtracker", ignore_errors=True)
            return measure([*MDTRACKER, "sync", *extra, str(folder)], folder)

        rows.append(("cold sync", _median([cold() for _ in range(repeat)])))
        rows.append(("cold sync, 1 core", _median([cold("--jobs", "1") for _ in range(repeat)])))
        cold()
        measure([*MDTRACKER, "sync", str(folder)], folder)
        rows.append(("warm sync, nothing changed",
                     _median([measure([*MDTRACKER, "sync", str(folder)], folder) for _ in range(repeat)])))
        notes = sorted(folder.rglob("*.md"))

        def one_changed(offset: int) -> tuple[float, float, float]:
            """A sync after one task was ticked in one note (a different note each run)."""
            runs = []
            for n in range(repeat):
                note = notes[(n * 7919 + offset) % len(notes)]
                note.write_text(re.sub(r"^(\s*)- \[ \]", r"\1- [x]", note.read_text("utf-8"), count=1, flags=re.M),
                                "utf-8")
                runs.append(measure([*MDTRACKER, "sync", str(folder)], folder))
            return _median(runs)

        rows.append(("warm sync, one note changed", one_changed(0)))
        rows.append(("check", _median([measure([*MDTRACKER, "check", str(folder)], folder) for _ in range(repeat)])))
        broken = folder / "broken.md"  # a region never closed: every sync reports it, and exits 2
        broken.write_text("# Broken\n\n<!-- mdtracker:begin progress -->\n", "utf-8")
        measure([*MDTRACKER, "sync", str(folder)], folder)
        rows.append(("warm sync, one note broken",
                     _median([measure([*MDTRACKER, "sync", str(folder)], folder) for _ in range(repeat)])))
        broken.unlink()
        dashboard = folder / "dashboard.md"  # regions on the whole vault: a change to any note renders them again
        dashboard.write_text("# Dashboard\n\n<!-- mdtracker:begin readiness -->\n<!-- mdtracker:end readiness -->\n\n"
                             "<!-- mdtracker:begin quick-stats -->\n<!-- mdtracker:end quick-stats -->\n", "utf-8")
        measure([*MDTRACKER, "sync", str(folder)], folder)
        rows.append(("one note changed, dashboard", one_changed(1)))
        dashboard.unlink()
        rows.append(("report --json",
                     _median([measure([*MDTRACKER, "report", "--json", str(folder)], folder) for _ in range(repeat)])))
        rows.append(("first sync (writes every note)", _median(first)))
        rows.append(("the sync after it", _median(after)))
        for note in notes[::20]:  # 5 % of the notes say when they were last synced: a new day rewrites them
            note.write_text(note.read_text("utf-8") + "\nSynced: <!-- mdtracker:begin last-updated -->"
                            "<!-- mdtracker:end last-updated -->\n", "utf-8")
        measure([*MDTRACKER, "sync", "--today", "2030-01-01", str(folder)], folder)
        day, day_after = [], []
        for n in range(repeat):
            today = ["--today", f"2030-01-{2 + n:02}"]
            day.append(measure([*MDTRACKER, "sync", *today, str(folder)], folder))
            day_after.append(measure([*MDTRACKER, "sync", *today, str(folder)], folder))
        rows.append(("a new day, 5 % of notes dated", _median(day)))
        rows.append(("the sync after the new day", _median(day_after)))
        cores = os.cpu_count() or 1
        print(f"\n{files} notes, {size:.1f} MB, {cores} cores. Floors (median of {repeat}): read all files "
              f"{floor['read']:.2f} s; markdown-it-py block parse {floor['parse1']:.2f} s on 1 core, "
              f"{floor['parseN']:.2f} s on {cores} (each run: "
              f"{', '.join(format(m['parseN'], '.2f') for m in measured)}).")
        print(f"{'':30} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}  ratio")
        for name, (wall, cpu, peak) in rows:
            ratio = f"{wall / floor['parseN']:.2f}x parse on {cores} cores" if name.startswith("cold sync") else ""
            if name == "cold sync, 1 core":
                ratio = f"{wall / floor['parse1']:.2f}x parse on 1 core"
            print(f"{name:30} {wall:8.2f} {cpu:8.2f} {peak:8.0f}  {ratio}")
        one_core = dict(rows)["cold sync, 1 core"][0]
        print(f"{'':30} cold sync is {one_core / dict(rows)['cold sync'][0]:.2f}x faster than on one core")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(folder.with_name(folder.name + "-first"), ignore_errors=True)


def _tick(note: Path) -> None:
    """Tick one box of a note, or untick one when none is left."""
    text = note.read_text("utf-8")
    new, found = re.subn(r"^(\s*)- \[ \]", r"\1- [x]", text, count=1, flags=re.M)
    note.write_text(new if found else re.sub(r"^(\s*)- \[x\]", r"\1- [ ]", text, count=1, flags=re.M), "utf-8")


def dashboard_rows(folder: Path, repeat: int) -> list[tuple[str, tuple[float, float, float]]]:
    """`mdtracker dashboard` on a vault whose caches are warm: nothing changed since the last page, and one
    note changed (a box ticked in a different note each run)."""
    page = folder.with_name(folder.name + ".html")  # (outside the vault)
    args = [*MDTRACKER, "dashboard", str(folder), "-o", str(page)]
    try:
        measure(args, folder)
        same = _median([measure(args, folder) for _ in range(repeat)])
        notes = sorted(folder.rglob("*.md"))
        changed = []
        for n in range(repeat):
            _tick(notes[(n * 7919 + 3) % len(notes)])
            changed.append(measure(args, folder))
        return [("warm, nothing changed", same), ("warm, one note changed", _median(changed))]
    finally:
        page.unlink(missing_ok=True)


def bench_dashboard(files: int, seed: int, repeat: int) -> None:
    """The dashboard of a generated vault (no git), its caches warm."""
    folder = Path(tempfile.mkdtemp(prefix=f"mdtracker-dashboard-{files}-"))
    try:
        generate.generate(folder, files, seed)
        subprocess.run([*MDTRACKER, "sync", str(folder)], stdout=subprocess.DEVNULL, check=True)
        print(f"\ndashboard of {files} notes (median of {repeat})")
        print(f"{'':30} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
        for name, (wall, cpu, peak) in dashboard_rows(folder, repeat):
            print(f"{name:30} {wall:8.2f} {cpu:8.2f} {peak:8.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def git_vault(folder: Path, files: int, seed: int, commits: int) -> None:
    """A generated vault in a git repository: one commit of every note, then `commits` daily commits ticking a
    box in one note each (made at once with `git fast-import`), the last one on the vault's today."""
    generate.generate(folder, files, seed)
    notes = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.md"))
    texts = {rel: (folder / rel).read_text("utf-8") for rel in notes}
    last = datetime.date(2025, 11, 22)
    out = []

    def commit(day: datetime.date, changed: list[str], n: int) -> None:
        epoch = int(datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.timezone.utc).timestamp())
        out.append(f"commit refs/heads/main\nauthor B <b@example.com> {epoch + n} +0000\n"
                   f"committer B <b@example.com> {epoch + n} +0000\ndata 4\nday\n")
        for rel in changed:
            data = texts[rel].encode()
            out.append(f"M 100644 inline {rel}\ndata {len(data)}\n")
            out.append(texts[rel] + "\n")

    commit(last - datetime.timedelta(days=commits), notes, 0)
    for n in range(commits):
        rel = notes[(n * 7919) % len(notes)]
        texts[rel] = re.sub(r"^(\s*)- \[ \]", r"\1- [x]", texts[rel], count=1, flags=re.M)
        commit(last - datetime.timedelta(days=commits - 1 - n), [rel], n + 1)
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=folder, input="".join(out).encode(), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=folder, check=True)


def bench_git(files: int, seed: int, repeat: int, commits: int) -> None:
    """The dashboard of a vault with a year of git history: the first run (no cache of any kind: every note and
    every blob parsed) and warm runs."""
    folder = Path(tempfile.mkdtemp(prefix=f"mdtracker-git-{files}-"))
    page = folder.with_name(folder.name + ".html")
    try:
        git_vault(folder, files, seed, commits)
        first = []
        for _ in range(repeat):
            shutil.rmtree(folder / ".mdtracker", ignore_errors=True)
            first.append(measure([*MDTRACKER, "dashboard", str(folder), "-o", str(page)], folder))
        rows = [("first run (no cache)", _median(first)), *dashboard_rows(folder, repeat)]
        print(f"\ndashboard of {files} notes with a git history of {commits} daily commits (median of {repeat}; a "
              "note changed is not committed)")
        print(f"{'':30} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
        for name, (wall, cpu, peak) in rows:
            print(f"{name:30} {wall:8.2f} {cpu:8.2f} {peak:8.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        page.unlink(missing_ok=True)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch_latency(files: int, seed: int, saves: int, idle_s: float) -> None:
    """Edit-to-region latency of `mdtracker watch` (a save of a note until its cookie shows the change),
    over `saves` saves, and the watcher's CPU use while the vault is idle."""
    folder = Path(tempfile.mkdtemp(prefix=f"mdtracker-watch-{files}-"))
    proc = None
    try:
        generate.generate(folder, files, seed)
        subprocess.run([*MDTRACKER, "sync", str(folder)], stdout=subprocess.DEVNULL, check=True)
        proc = subprocess.Popen([*MDTRACKER, "watch", str(folder)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # "watching …"
        time.sleep(3)
        notes = sorted(folder.rglob("*.md"))
        latencies = []
        for n in range(saves):
            note = notes[(n * 7919) % len(notes)]
            text = note.read_text("utf-8")
            first = text.splitlines()[6]  # the H1 with its cookie
            new, found = re.subn(r"^(\s*)- \[ \]", r"\1- [x]", text, count=1, flags=re.M)
            if not found:
                new = re.sub(r"^(\s*)- \[x\]", r"\1- [ ]", text, count=1, flags=re.M)
            start = time.perf_counter()
            note.write_text(new, "utf-8")
            while True:
                current = note.read_text("utf-8")
                if current.splitlines()[6] != first or time.perf_counter() - start > 5:
                    break
                time.sleep(0.002)
            latencies.append(time.perf_counter() - start)
            time.sleep(0.2)
        time.sleep(2)
        before, t = _cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(idle_s)
        idle = (_cpu_seconds(proc.pid) - before) / (time.perf_counter() - t) * 100
        latencies.sort()
        p95 = latencies[int(0.95 * len(latencies)) - 1]
        print(f"\nwatch on {files} notes, {saves} saves: edit-to-region latency median "
              f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms; CPU while idle {idle:.2f} % (over {idle_s:.0f} s)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def lsp_latency(files: int, seed: int, keystrokes: int) -> None:
    """`mdtracker lsp` on a note of the generated vault (its cache warm), with a dashboard note (a region on
    the whole vault) open beside it: server start to the first diagnostics, then over `keystrokes` keystrokes
    (one character typed into a task line, as an editor sends it: an incremental didChange) the time to the
    note's published diagnostics and, on other keystrokes, to the inlay hints asked for right after, and the
    server's memory."""
    import asyncio

    from lsprotocol import types as lsp
    from pygls import uris
    from pygls.lsp.client import LanguageClient

    folder = Path(tempfile.mkdtemp(prefix=f"mdtracker-lsp-{files}-"))
    try:
        generate.generate(folder, files, seed)
        (folder / "dashboard.md").write_text('# Dashboard\n\n<!-- mdtracker:begin progress scope="" -->\n'
                                             '<!-- mdtracker:end progress -->\n', "utf-8")
        for _ in range(2):  # the first rewrites every note's cookies; after the second the cache knows every note
            subprocess.run([*MDTRACKER, "sync", str(folder)], stdout=subprocess.DEVNULL, check=True)
        notes = sorted(folder.rglob("note-*.md"))
        note = notes[len(notes) // 2]
        rows = asyncio.run(_lsp_session(LanguageClient, lsp, uris, folder, note, keystrokes))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    start, diagnostics, hints, rss, hwm = rows

    def spread(values: list[float]) -> str:
        values = sorted(values)
        return (f"median {statistics.median(values) * 1000:.1f} ms, p95 {values[int(0.95 * len(values)) - 1] * 1000:.1f} ms, "
                f"max {values[-1] * 1000:.1f} ms")

    print(f"\nlsp on {files} notes: server start to first diagnostics {start:.2f} s; keystroke (didChange) to "
          f"published diagnostics {spread(diagnostics)}; to fresh inlay hints {spread(hints)} "
          f"({keystrokes} keystrokes); server memory {rss:.0f} MB (peak {hwm:.0f} MB)")


async def _lsp_session(LanguageClient, lsp, uris, folder: Path, note: Path, keystrokes: int):  # noqa: ANN001
    import asyncio

    client = LanguageClient("bench", "1")
    arrived: dict[str, asyncio.Event] = {}

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params) -> None:  # noqa: ANN001
        arrived.setdefault(params.uri, asyncio.Event()).set()

    @client.feature(lsp.WINDOW_LOG_MESSAGE)
    def logged(params) -> None:  # noqa: ANN001
        pass

    t0 = time.perf_counter()
    await client.start_io(*MDTRACKER, "lsp", str(folder))
    root = uris.from_fs_path(str(folder))
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=root))
    client.initialized(lsp.InitializedParams())
    uri = uris.from_fs_path(str(note))
    text = note.read_text("utf-8")
    arrived[uri] = asyncio.Event()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "markdown", 1, text)))
    await arrived[uri].wait()
    start = time.perf_counter() - t0
    dash = uris.from_fs_path(str(folder / "dashboard.md"))
    arrived[dash] = asyncio.Event()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        dash, "markdown", 1, (folder / "dashboard.md").read_text("utf-8"))))
    await arrived[dash].wait()
    lines = text.split("\n")
    task = next(n for n, line in enumerate(lines) if line.lstrip().startswith("- [ ]"))
    column = len(lines[task].encode("utf-16-le")) // 2
    diagnostics, hints = [], []
    for n in range(keystrokes * 2):
        arrived[uri] = asyncio.Event()
        t = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(n + 2, uri),
            [lsp.TextDocumentContentChangePartial(lsp.Range(lsp.Position(task, column), lsp.Position(task, column)), "x")]))
        column += 1
        if n % 2 == 0:
            await arrived[uri].wait()
            diagnostics.append(time.perf_counter() - t)
        else:
            await client.text_document_inlay_hint_async(lsp.InlayHintParams(
                lsp.TextDocumentIdentifier(uri), lsp.Range(lsp.Position(0, 0), lsp.Position(len(lines), 0))))
            hints.append(time.perf_counter() - t)
            await arrived[uri].wait()
        await asyncio.sleep(0.1)  # typing speed: a keystroke every 100 ms or so
    status = Path(f"/proc/{client._server.pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return start, diagnostics, hints, rss, hwm


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--watch-files", type=int, nargs="*", default=[1000, 10000],
                        help="vault sizes for the watch latency (none: skip)")
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--idle", type=float, default=65.0, help="seconds over which watch's idle CPU is measured")
    parser.add_argument("--dashboard-files", type=int, nargs="*", default=[1000, 10000],
                        help="vault sizes for the dashboard, its caches warm (none: skip)")
    parser.add_argument("--git-files", type=int, nargs="*", default=[1000, 10000],
                        help="vault sizes for the dashboard with a git history (none: skip)")
    parser.add_argument("--commits", type=int, default=365, help="daily commits of that history")
    parser.add_argument("--lsp-files", type=int, nargs="*", default=[10000],
                        help="vault sizes for the language server's keystroke latency (none: skip)")
    parser.add_argument("--keystrokes", type=int, default=100)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    # as `pip install` leaves a package: compiled (an editable install under PYTHONDONTWRITEBYTECODE would make
    # every run compile mdtracker's sources again, and time that)
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "mdtracker"), quiet=1)
    for files in args.files:
        bench(files, args.seed, args.repeat)
    for files in args.dashboard_files:
        bench_dashboard(files, args.seed, args.repeat)
    for files in args.git_files:
        bench_git(files, args.seed, args.repeat, args.commits)
    for files in args.watch_files:
        watch_latency(files, args.seed, args.saves, args.idle)
    for files in args.lsp_files:
        lsp_latency(files, args.seed, args.keystrokes)


if __name__ == "__main__":
    main()
