"""The `pyjlchar` command. Data (samples, DOT, reports) goes to stdout, logs to stderr."""
from __future__ import annotations

import json
import sys

import click

from . import julia
from .errors import JuliaError, UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python and Julia backtraces on errors.")
@click.version_option(package_name="pyjlchar")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Character-level LSTM language models (MXNet.jl's char-lstm) on libmxnet.

    The model, training and sampling run in Julia, in this process; this command drives them.
    Start with `pyjlchar doctor` to check the installation.
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def doctor(as_json: bool) -> None:
    """Check the installation: Python, Julia and the bridge, libmxnet and its features, GPUs,
    Graphviz, cache folders. Exits non-zero, naming the fix, when something essential is missing."""
    from . import doctor as doc

    report, problems = doc.collect()
    if as_json:
        click.echo(json.dumps({**report, "ok": not problems, "problems": problems}, indent=2))
    else:
        click.echo(doc.render(report, problems))
    if problems:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every failure into one line on stderr and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if debug:
        julia.debug_default = True
    try:
        cli.main(args=args, prog_name="pyjlchar", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except (UserError, JuliaError) as e:
        if debug:
            if getattr(e, "backtrace", ""):
                click.echo(f"Julia backtrace:\n{e.backtrace}", err=True)
            raise
        kind = "" if isinstance(e, UserError) else f"{e.kind}: "
        click.echo(f"error: {kind}{str(e).strip()}", err=True)
        if not isinstance(e, UserError):
            click.echo("(run with --debug for the backtrace)", err=True)
        sys.exit(1)
