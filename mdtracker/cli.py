"""The command line: arguments in, calls made, exit codes out (SPEC §2).

`run(argv)` returns the exit status, so tests call it directly. Every error is printed as
`path:line: message` on stderr; none escapes as a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import os
import signal
import sys
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator


import click

from mdtracker import __version__
from mdtracker.errors import MdtrackerError
from mdtracker.engine import Engine
from mdtracker.files import split_lines
from mdtracker.pipeline import load_config, open_root
from mdtracker.vault import Vault

if TYPE_CHECKING:  # the heavy modules load when a command needs them: `sync` on a fresh vault needs none
    from rich.console import Console

    from mdtracker.analyze import Analysis
    from mdtracker.regions import Change

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

# What each command's --help says below its options (\b keeps click from re-wrapping the lines).
_VAULT_HELP = "VAULT is the folder of notes (default: the current folder)."
_EXITS = {
    "sync": "0 done, 2 a note or the config could not be processed",
    "check": "0 every region fresh, 1 something is stale, 2 error",
    "report": "0, 2 a note or the config could not be processed",
    "lint": "0 no problems, 1 problems listed, 2 error",
    "init": "0, 2 error",
    "dashboard": "0, 2 error",
    "watch": "0 when stopped with Ctrl-C, 2 error",
}


def _epilog(name: str) -> str:
    return f"\b\n{_VAULT_HELP}\nExit status: {_EXITS[name]}; 130 when interrupted."


def _date(value: str | None, source: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{source}: expected a date YYYY-MM-DD, got {value!r}") from None


def _fixed_day(today: str | None, outer: dict) -> dt.date | None:
    """The day a user fixed: `--today` (before or after the command), else $MDTRACKER_TODAY."""
    return (_date(today or outer.get("today"), "--today")
            or _date(os.environ.get("MDTRACKER_TODAY") or None, "MDTRACKER_TODAY"))


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--today` and `--config`, accepted before the command and after it."""
    command = click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                           help="Config file to use instead of VAULT/mdtracker.toml.")(command)
    return click.option("--today", metavar="YYYY-MM-DD",
                        help="The date to count as today (else $MDTRACKER_TODAY, the config, the clock).")(command)


@dataclass
class Run:
    """A command's engine, updated once, its day, and the analysis (computed when first asked for)."""

    engine: Engine
    today: dt.date

    @property
    def vault(self) -> Vault:
        return self.engine.current

    @functools.cached_property
    def analysis(self) -> Analysis:
        return self.engine.analysis(self.today)

    @property
    def fresh(self) -> bool:
        """Nothing changed since a run found every region fresh: sync and check have nothing to do."""
        return self.engine.fresh(self.today)

    def mark_fresh(self, stale: dict[str, tuple[Change, ...] | None]) -> None:
        self.engine.mark_fresh(self.today, stale)


def _vault_command(rewrites: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A command on a vault: VAULT argument, the common options, and the vault loaded for it. For commands
    on regions (`rewrites`: "write" for sync, "compare" for check; "learn" for report, which only remembers
    what it found), the notes that need nothing but themselves and the day are transformed as they are
    parsed, and sync writes them there."""
    return functools.partial(_on_vault, rewrites=rewrites)


def _on_vault(command: Callable[..., Any], rewrites: str | None) -> Callable[..., Any]:
    @functools.wraps(command)
    def run_on_vault(ctx: click.Context, vault: Path, today: str | None, config_file: Path | None, no_cache: bool,
                jobs: int | None, **kwargs: Any) -> int:
        outer = ctx.obj or {}
        root = open_root(vault)
        config = load_config(root, config_file or outer.get("config_file"))
        day = _fixed_day(today, outer) or config.today or dt.date.today()
        with _progress() as progress:
            engine = Engine(root, config, jobs, use_cache=not no_cache, progress=progress)
            engine.update(today=day if rewrites else None, write=rewrites == "write", texts=bool(kwargs.get("diff")),
                          documents=rewrites in ("write", "compare") or bool(kwargs.get("fix")))
        engine.progress = None
        run = Run(engine, day)
        code = int(command(run, **kwargs))
        engine.save()
        return code

    wrapper: Callable[..., Any] = run_on_vault
    wrapper = click.argument("vault", default=".", type=click.Path(path_type=Path))(wrapper)
    wrapper = click.option("--jobs", type=click.IntRange(min=1), metavar="N",
                           help="Processes that parse changed notes (default: one per core).")(wrapper)
    wrapper = click.option("--no-cache", is_flag=True, help="Parse every note; neither read nor write the cache.")(wrapper)
    wrapper = _common(wrapper)
    return click.pass_context(wrapper)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int], Callable[[int], None]] | None]:
    """A progress bar on a terminal (stderr) for parses long enough to wait for (about a second or more)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        def start(total: int) -> Callable[[int], None]:
            if total < 400:
                return lambda n: None
            task = bar.add_task("Parsing notes", total=total)
            return lambda n: bar.advance(task, n)

        yield start


def _warn_mojibake(run: Run) -> None:
    """Notes with mojibake are read as repaired, which the note does not say yet: tell the user, once a run."""
    for rel in run.vault.mojibake():
        _error(f"{rel}: mojibake (UTF-8 read as cp1252 or Mac Roman): its summaries are read from the text "
               "repaired; `mdtracker lint --fix` repairs the note")


def _error(message: str) -> None:
    click.echo(message, err=True)


def _console() -> Console:
    """On a terminal, rich's layout at the terminal's width; on a pipe, one item per line, never wrapped."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=100_000, no_color=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=(
    "\b\nVAULT, for every command, is the folder of notes (default: the current folder).\n"
    "Today is --today, else $MDTRACKER_TODAY, else `today` in mdtracker.toml, else the clock.\n"
    "Exit status: 0 ok, 1 check found stale regions or lint found problems, 2 error, 130 interrupted.\n"
    "`mdtracker COMMAND --help` says more."))
@click.version_option(__version__, prog_name="mdtracker")
@_common
@click.pass_context
def main(ctx: click.Context, today: str | None, config_file: Path | None) -> None:
    """Progress, readiness and what is overdue, computed from Markdown notes and written back into them."""
    ctx.obj = {"today": today, "config_file": config_file}


@main.command("sync", epilog=_epilog("sync"))
@_vault_command(rewrites="write")
def sync_command(run: Run) -> int:
    """Regenerate every managed region and cookie in the vault."""
    _warn_mojibake(run)
    written, errors = [], []
    if not run.fresh:
        applied = run.engine.apply(run.today)
        written, errors = applied.written, [str(err) for err in applied.errors]
    page, failed = _configured_dashboard(run, write=True)
    for message in errors + ([failed] if failed else []):
        _error(message)
    for o in written:
        click.echo(f"updated {o.path}: " + ", ".join(f"{c.what} (line {c.line})" for c in o.changes))
    if page:
        click.echo(f"updated {page}: dashboard")
    if not written and not page and not errors and not failed:
        click.echo("Every region is up to date.")
    return EXIT_ERROR if errors or failed else EXIT_OK


@main.command("watch", epilog=_epilog("watch"))
@click.argument("vault", default=".", type=click.Path(path_type=Path))
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help="Processes that parse changed notes.")
@_common
@click.pass_context
def watch_command(ctx: click.Context, vault: Path, today: str | None, config_file: Path | None,
                  jobs: int | None) -> int:
    """Sync once, then keep regions fresh as notes change, until interrupted (Ctrl-C)."""
    import threading

    from mdtracker.watch import Watcher

    outer = ctx.obj or {}
    root = open_root(vault)
    explicit = config_file or outer.get("config_file")
    fixed = _fixed_day(today, outer)
    config = load_config(root, explicit)  # a broken config at the start is an error, as for sync

    def day() -> dt.date:
        current = watcher.config or config
        return fixed or current.today or dt.date.today()

    def say(message: str) -> None:
        click.echo(f"{dt.datetime.now():%H:%M:%S} {message}")

    watcher = Watcher(root, lambda: load_config(root, explicit), day, say, jobs, config)
    say(f"watching {root} (Ctrl-C to stop)")
    stop = threading.Event()
    try:
        watcher.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return EXIT_OK


@main.command("check", epilog=_epilog("check"))
@click.option("--diff", is_flag=True, help="Print a unified diff of what sync would change.")
@_vault_command(rewrites="compare")
def check_command(run: Run, diff: bool) -> int:
    """Change nothing; list every region that is out of date."""
    _warn_mojibake(run)
    page, failed = _configured_dashboard(run, write=False)
    if failed:
        _error(failed)
    if page:
        click.echo(f"{page}: dashboard is out of date")
    found = EXIT_ERROR if failed else EXIT_FOUND if page else EXIT_OK
    if run.fresh:
        return found
    outcomes, errors = run.engine.plan(run.today, known=not diff)
    for err in errors:
        _error(str(err))
    stale = [o for o in outcomes if o.stale]
    for o in stale:
        for c in o.changes:
            click.echo(f"{o.path}:{c.line}: {c.what} is out of date")
        if diff and o.note is not None and o.new_text is not None:
            click.echo("".join(difflib.unified_diff(
                split_lines(o.note.text), split_lines(o.new_text), f"a/{o.path}", f"b/{o.path}")), nl=False)
    run.mark_fresh({o.path: o.changes for o in stale} | {e.path: None for e in errors})
    if errors or failed:
        return EXIT_ERROR
    return EXIT_FOUND if stale or page else EXIT_OK


@main.command("report", epilog=_epilog("report"))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (SPEC §6).")
@click.option("--explain", metavar="WHAT", type=click.Choice(["scores", "topics", "gaps", "history", "milestones",
              "scenarios", "stories", "applications", "followups", "domains"]),
              help="List each item of one summary with the line it came from and the rule that took it.")
@_vault_command(rewrites="learn")
def report_command(run: Run, as_json: bool, explain: str | None) -> int:
    """Summarize progress, readiness and what is overdue."""
    from mdtracker import report

    if explain:
        for item in report.explain(run.analysis, explain, run.vault.root):
            click.echo(item)
        return EXIT_ERROR if run.vault.errors else EXIT_OK
    vault, analysis = run.vault, run.analysis
    if run.engine.use_cache and (found := vault.found_stale()) is not None:
        run.mark_fresh(found)  # it parsed every note: the next sync or check need only look at what it found
    for err in vault.errors:
        _error(str(err))
    if as_json:
        report.write_json(report.as_json(analysis), sys.stdout)
    else:
        report.print_summary(analysis, _console(), vault.root.resolve().name or str(vault.root))
        for notice in analysis.notices:  # (on stderr: the summary on stdout stays one thing, for a pipe)
            _error(notice)
    return EXIT_ERROR if vault.errors else EXIT_OK


@main.command("lint", epilog=_epilog("lint"))
@click.option("--fix", is_flag=True, help="Repair what is safe to repair (mojibake) in place.")
@_vault_command()
def lint_command(run: Run, fix: bool) -> int:
    """List problems as `path:line: CODE message`."""
    from mdtracker import lint

    vault, problems = run.vault, run.analysis.problems
    if fix:
        fixed, errors = lint.fix_mojibake(vault)
        for f in fixed:
            _error(f"{f.path}: repaired {f.repairs} mojibake run(s)")
        for err in errors:
            _error(str(err))
        if fixed:
            again = Engine(vault.root, vault.config)
            again.update()
            problems = again.analysis(run.today).problems
    for p in problems:
        click.echo(str(p))
    return EXIT_FOUND if problems else EXIT_OK


def run(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        result = main.main(args=argv, prog_name="mdtracker", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return int(exit_.exit_code)
    except click.ClickException as err:
        err.show()
        return EXIT_ERROR
    except click.exceptions.Abort:  # Ctrl-C, or SIGTERM (see `entry`): whatever it did is not reported done
        _error("mdtracker: interrupted; what it did so far is not reported done (run it again)")
        return EXIT_INTERRUPTED
    except MdtrackerError as err:
        _error(str(err))
        return EXIT_ERROR
    return int(result) if isinstance(result, int) else EXIT_OK


def entry() -> None:
    """The `mdtracker` command (and `python -m mdtracker`): one command, in a process of its own."""
    from mdtracker.workers import fewer_collections

    fewer_collections()
    signal.signal(signal.SIGTERM, _terminated)
    _exit(run(sys.argv[1:]))


def _exit(code: int) -> None:
    """Exit without freeing the heap object by object (a sixth of a second of a dashboard of 10,000 notes), as
    mypy does, when nothing is left to finish: the output flushed, no other thread, no worker process (an
    interrupted parse, say: then Python exits as usual, waiting for them). Every file was written and closed,
    and the cache saved, before the command returned."""
    import multiprocessing
    import threading

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # (a closed pipe: Python says so as it exits)
        sys.exit(code)
    if threading.active_count() > 1 or multiprocessing.active_children():
        sys.exit(code)
    os._exit(code)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends a command as Ctrl-C does: it exits 130 and says so."""
    raise KeyboardInterrupt


@main.command("dashboard", epilog=_epilog("dashboard"))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Where to write the page (default: [dashboard] file in the config, else VAULT/dashboard.html).")
@_vault_command()
def dashboard_command(run: Run, output: Path | None) -> int:
    """Write one self-contained HTML page of the vault: today, readiness, history, scores and the forecast."""
    from mdtracker import dashboard  # (deferred: start-up time; it loads Jinja2 and the git history)

    vault = run.vault
    for err in vault.errors:
        _error(str(err))
    try:
        out = output if output is not None else dashboard.default_path(vault.root, vault.config)
        written = dashboard.update(vault.root, vault.config, run.today, vault.stats, lambda: run.analysis, out,
                                   cache=run.engine.use_cache and not vault.errors)
    except OSError as err:
        _error(f"{output or vault.config.dashboard_file}: cannot write the dashboard: {err.strerror or err}")
        return EXIT_ERROR
    click.echo(f"wrote {out}" if written else f"{out} is up to date")
    return EXIT_ERROR if vault.errors else EXIT_OK


@main.command("init", epilog=_epilog("init"))
@click.argument("vault", default=".", type=click.Path(path_type=Path))
@click.option("--write", is_flag=True, help="Make the changes proposed (else: show them, and on a terminal ask).")
@_common
@click.pass_context
def init_command(ctx: click.Context, vault: Path, write: bool, today: str | None, config_file: Path | None) -> int:
    """Propose what it takes to get summaries into your notes, as a diff: mojibake repaired, an mdtracker.toml
    for the statuses your notes use, regions and cookies where a layout is recognized, a dashboard.md."""
    from mdtracker import config as config_mod
    from mdtracker import init

    outer = ctx.obj or {}
    root = open_root(vault)
    explicit = config_file or outer.get("config_file")
    config = load_config(root, explicit)
    day = _fixed_day(today, outer) or config.today or dt.date.today()
    path = explicit or config_mod.find(root)
    proposal = init.propose(root, config, path, day)
    asking = not write and sys.stdin.isatty() and sys.stdout.isatty()
    if asking and proposal.statuses:
        for symbol, (kind, meaning, uses, where) in list(proposal.statuses.items()):
            answer = click.prompt(f"[{symbol}] is used {uses} time(s), first at {where}. What does it mean?",
                                  type=click.Choice(init.STATUS_TYPES), default=kind)
            if answer != kind:
                proposal.statuses[symbol] = (answer, init.ANSWERED, uses, where)
        proposal = init.propose(root, config, path, day, answers=proposal.statuses)
    for err in proposal.errors:
        _error(str(err))
    if proposal.empty:
        click.echo("Nothing to propose: every layout init knows already has its regions.")
        for hint in proposal.hints:
            _error(hint)
        return EXIT_ERROR if proposal.errors else EXIT_OK
    for line in proposal.summary():
        click.echo(line)
    click.echo()
    click.echo(proposal.diff(), nl=False)
    for hint in proposal.hints:
        _error(hint)
    if write or (asking and click.confirm("Write these changes?", default=False)):
        done, failed = init.write(root, proposal)
        for err in failed:
            _error(str(err))
        click.echo(f"wrote {len(done)} file(s). Next: `mdtracker sync` keeps them fresh; `mdtracker check` in CI.")
        if failed:
            return EXIT_ERROR
    elif not asking:
        click.echo("Nothing written: run `mdtracker init --write` to make these changes.")
    return EXIT_ERROR if proposal.errors else EXIT_OK


def _configured_dashboard(run: Run, write: bool) -> tuple[str | None, str | None]:
    """Keep the config's `[dashboard] file` fresh (sync) or say whether it is (check): (the page's path in the
    vault when it was, or would be, rewritten; an error), both None with no page configured or a fresh one."""
    config = run.vault.config
    if config.dashboard_file is None:
        return None, None
    from mdtracker import dashboard  # (deferred: start-up time, as for the dashboard command)

    root = run.vault.root
    try:
        changed = dashboard.update(root, config, run.today, run.vault.stats, lambda: run.analysis,
                                   cache=run.engine.use_cache and not run.vault.errors, write=write)
    except OSError as err:
        return None, f"{config.dashboard_file}: cannot write the dashboard: {err.strerror or err}"
    return (config.dashboard_file if changed else None), None


@main.command("lsp")
@click.argument("vault", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--stdio", is_flag=True, help="Speak over stdin and stdout (the only way; accepted as editors pass it).")
@_common
@click.pass_context
def lsp_command(ctx: click.Context, vault: Path | None, stdio: bool, today: str | None,
                config_file: Path | None) -> int:
    """A language server over stdio for the vault (the editor's workspace folder, else VAULT, else here)."""
    from mdtracker.lsp import serve  # deferred: start-up time (pygls and the analysis load only for this command)

    outer = ctx.obj or {}
    root = open_root(vault) if vault is not None else None
    fixed = _date(today or outer.get("today"), "--today")
    return serve(root, config_file or outer.get("config_file"), fixed)
