"""The command line: arguments in, calls made, exit codes out (SPEC §2).

`run(argv)` returns the exit status, so tests call it directly. Every error is printed as
`path:line: message` on stderr; none escapes as a traceback.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console

from mdtracker import __version__, lint, report, sync
from mdtracker.analyze import Analysis, analyze
from mdtracker.errors import MdtrackerError, NoteError
from mdtracker.files import split_lines, write_note
from mdtracker.vault import Vault, load, load_config, open_root

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _date(value: str | None, source: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{source}: expected a date YYYY-MM-DD, got {value!r}") from None


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--today` and `--config`, accepted before the command and after it."""
    command = click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                           help="Config file to use instead of VAULT/mdtracker.toml.")(command)
    return click.option("--today", metavar="YYYY-MM-DD",
                        help="The date to count as today (else $MDTRACKER_TODAY, the config, the clock).")(command)


def _vault_command(command: Callable[..., Any]) -> Callable[..., Any]:
    """A command on a vault: VAULT argument, the common options, and the vault loaded for it."""

    @functools.wraps(command)
    def wrapper(ctx: click.Context, vault: Path, today: str | None, config_file: Path | None,
                **kwargs: Any) -> int:
        outer = ctx.obj or {}
        root = open_root(vault)
        config = load_config(root, config_file or outer.get("config_file"))
        day = (_date(today or outer.get("today"), "--today")
               or _date(os.environ.get("MDTRACKER_TODAY") or None, "MDTRACKER_TODAY")
               or config.today or dt.date.today())
        loaded = load(root, config)
        analysis = analyze(loaded.documents, config, day, loaded.error_problems)
        return int(command(loaded, analysis, **kwargs))

    wrapper = click.argument("vault", default=".", type=click.Path(path_type=Path))(wrapper)
    wrapper = _common(wrapper)
    return click.pass_context(wrapper)


def _error(message: str) -> None:
    click.echo(message, err=True)


def _console() -> Console:
    return Console(highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mdtracker")
@_common
@click.pass_context
def main(ctx: click.Context, today: str | None, config_file: Path | None) -> None:
    """Progress, readiness and what is overdue, computed from Markdown notes and written back into them."""
    ctx.obj = {"today": today, "config_file": config_file}


def _plan(vault: Vault, analysis: Analysis) -> tuple[list[sync.Outcome], bool]:
    """The transform of every managed note, with every error printed; and whether there was an error."""
    outcomes = sync.plan(vault, analysis)
    errors = [str(e) for e in vault.errors] + [str(o.error) for o in outcomes if o.error]
    for message in errors:
        _error(message)
    return outcomes, bool(errors)


@main.command("sync")
@_vault_command
def sync_command(vault: Vault, analysis: Analysis) -> int:
    """Regenerate every managed region and cookie in the vault."""
    outcomes, failed = _plan(vault, analysis)
    written = 0
    for o in outcomes:
        if not o.stale or o.note is None or o.new_raw is None:
            continue
        try:
            write_note(o.note, o.new_raw, o.path)
        except NoteError as err:
            _error(str(err))
            failed = True
            continue
        written += 1
        click.echo(f"updated {o.path}: " + ", ".join(f"{c.what} (line {c.line})" for c in o.changes))
    if not written and not failed:
        click.echo("Every region is up to date.")
    return EXIT_ERROR if failed else EXIT_OK


@main.command("check")
@click.option("--diff", is_flag=True, help="Print a unified diff of what sync would change.")
@_vault_command
def check_command(vault: Vault, analysis: Analysis, diff: bool) -> int:
    """Change nothing; list every region that is out of date."""
    outcomes, failed = _plan(vault, analysis)
    stale = [o for o in outcomes if o.stale]
    for o in stale:
        for c in o.changes:
            click.echo(f"{o.path}:{c.line}: {c.what} is out of date")
        if diff and o.note is not None and o.new_text is not None:
            click.echo("".join(difflib.unified_diff(
                split_lines(o.note.text), split_lines(o.new_text), f"a/{o.path}", f"b/{o.path}")), nl=False)
    if failed:
        return EXIT_ERROR
    return EXIT_FOUND if stale else EXIT_OK


@main.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (SPEC §6).")
@_vault_command
def report_command(vault: Vault, analysis: Analysis, as_json: bool) -> int:
    """Summarize progress, readiness and what is overdue."""
    for err in vault.errors:
        _error(str(err))
    if as_json:
        click.echo(json.dumps(report.as_json(analysis), ensure_ascii=False, indent=2))
    else:
        report.print_summary(analysis, _console(), vault.root.resolve().name or str(vault.root))
    return EXIT_ERROR if vault.errors else EXIT_OK


@main.command("lint")
@click.option("--fix", is_flag=True, help="Repair what is safe to repair (mojibake) in place.")
@_vault_command
def lint_command(vault: Vault, analysis: Analysis, fix: bool) -> int:
    """List problems as `path:line: CODE message`."""
    problems = analysis.problems
    if fix:
        fixed, errors = lint.fix_mojibake(vault)
        for f in fixed:
            _error(f"{f.path}: repaired {f.repairs} mojibake run(s)")
        for err in errors:
            _error(str(err))
        if fixed:
            reloaded = load(vault.root, vault.config)
            problems = analyze(reloaded.documents, vault.config, analysis.today, reloaded.error_problems).problems
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
    except click.exceptions.Abort:
        return EXIT_OK
    except MdtrackerError as err:
        _error(str(err))
        return EXIT_ERROR
    return int(result) if isinstance(result, int) else EXIT_OK


def entry() -> None:
    sys.exit(run(sys.argv[1:]))
