"""The `pyjlchar` command. Data (samples, DOT, reports) goes to stdout, logs to stderr.

Every setting's flag is made from the table in settings.py (`settings_flags`): its name, type,
choices and help, with the default shown from there; a flag left out is None, so that the
config file, --set and the defaults decide (settings.load_config). Each command calls the
Python API (api.py) and formats what it returns.
"""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from . import bridge
from .bridge import host
from .errors import Interrupted, JuliaError, OutputError, UserError
from .settings import (DRAWING, EVAL_BYTES_PER_STREAM, OPTIONS, SECTION_OF, SECTIONS, SET_EXAMPLE,
                       Setting, load_config, read_utf8, toml_text)
from .show import streams

# A node of a parameter-server job leaves this long after a stop signal if ps-lite still holds it.
from .distributed.launch import GRACE_S, SSH_PORT  # noqa: E402 - grouped with its use


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python and Julia backtraces on errors.")
@click.version_option(package_name="pyjlchar")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Character-level language models (MXNet.jl's char-lstm) on libmxnet.

    The model, training and sampling run in Julia, in this process; this command drives them.
    Start with `pyjlchar doctor` to check the installation.
    """
    ctx.obj = {"debug": debug}
    _debug[0] = debug
    bridge.set_debug(debug)


_debug = [False]  # --debug, as the group read it: main() reports errors after click is done


# ----- flags from the settings table -------------------------------------------------------------

def _option(key: str, setting: Setting, shown: str | None = None, help_text: str | None = None,
            name: str | None = None, ranged: bool = False):
    """The click option of a setting: --key-name, its type and choices, its help ending in its
    rule and default (`shown`, when the command's differs); not given, it is None. `ranged`:
    click checks the bounds (a command's own option, which no settings layer checks)."""
    rule = "" if setting.choices else f" Allowed: {setting.rule}."
    text = f"{help_text or setting.help}{rule} Default: {shown or toml_text(setting.default)}."
    flag = "--" + key.replace("_", "-")
    names = [flag, name] if name else [flag]
    if setting.type is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", *names[1:], default=None, help=text)
    if setting.type is list:
        return click.option(*names, multiple=True, metavar="TEXT", help=text + " Give it several times for several.")
    kind = (click.Choice(setting.choices) if setting.choices else
            click.IntRange(setting.low, setting.high) if ranged and setting.type is int else
            {int: click.INT, float: click.FLOAT, str: click.STRING}[setting.type])
    return click.option(*names, type=kind, default=None, help=text)


def settings_flags(*selectors: str, defaults: dict | None = None):
    """Adds a flag for each setting `selectors` name: a whole section ("model") or one key
    ("compute.context"); `defaults` are the defaults a command shows instead (visualize's)."""
    keys = [key for selector in selectors
            for key in ([selector.partition(".")[2]] if "." in selector else SECTIONS[selector].keys)]

    def decorate(f):
        for key in reversed(keys):
            shown, section = (defaults or {}).get(key), SECTION_OF[key]
            setting = SECTIONS[section].keys[key]
            f = _option(key, setting, None if shown is None else toml_text(shown), f"[{section}] {setting.help}")(f)
        return f
    return decorate


def option_flag(key: str, **kwargs):
    """The flag of one of a command's own options (settings.OPTIONS)."""
    return _option(key, OPTIONS[key], ranged=True, **kwargs)


def _given(params: dict) -> dict:
    """The setting flags among a command's parameters, as {"section.key": value} (None: not given)."""
    flags = {}
    for key, value in params.items():
        if key in SECTION_OF:
            if isinstance(value, tuple):  # a repeatable flag: not given, one value, or a list
                value = None if not value else value[0] if len(value) == 1 else list(value)
            flags[f"{SECTION_OF[key]}.{key}"] = value
    return flags


def _set_option(example: str, note: str = ""):
    """--set, for a command that reads a config file."""
    return click.option(
        "--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
        help=f"Set a key of the config file, e.g. {example}; give it several times for several keys. VALUE "
             "is read as in the TOML file (3, 0.5, \"text\", [\"a.txt\", \"b/\"], true); one that is not TOML is "
             "taken as a string. Applied over --config; the other flags win over it." + note)


def _config_option(what: str):
    return click.option("--config", "config_path", metavar="FILE",
                        help=f"TOML settings: a file, or a shipped one by name (shakespeare, quick); {what}")


def _settings(params: dict) -> dict:
    """A command's settings: the defaults, then --config, then --set, then its flags."""
    return load_config(params.get("config_path"), _given(params), params.get("assignments", ()))


# ----- the commands ----------------------------------------------------------------------------

@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def doctor(as_json: bool) -> None:
    """Check the installation: Python, Julia and the bridge, libmxnet and its features, the
    OpenMP threads, GPUs, Graphviz, cache folders. Exits non-zero, naming the fix, when
    something essential is missing."""
    from .ops import doctor as doc

    report, problems = doc.collect()
    if as_json:
        click.echo(json.dumps({**report, "ok": not problems, "problems": problems}, indent=2))
    else:
        click.echo(doc.render(report, problems))
    if problems:
        sys.exit(1)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-n", "--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes (each trains on its shard of the batches).")
@click.option("-s", "--servers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes (they sum the workers' gradients).")
@click.option("--hosts", "hosts_file", metavar="FILE",
              help="Run the job on these machines over ssh: FILE names one host (a name or an IPv4 "
                   "address) per line; `#` starts a comment, blank lines are skipped. The scheduler "
                   "runs on the first host, the servers and the workers round-robin over all.")
@click.option("--port", type=click.IntRange(1, 65535), metavar="N",
              help=f"The scheduler's port. Default: a free one on this machine, or {SSH_PORT} with --hosts "
                   "(where it must be free on the first host).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def launch(workers, servers, hosts_file, port, command):
    """Run a parameter-server training job: a scheduler, the servers and the workers, each a
    `pyjlchar COMMAND` process whose role comes from its DMLC_* environment; on this machine, or
    with --hosts on other machines. Each worker gets its share of its machine's cores as
    OMP_NUM_THREADS. When any process fails the whole job is stopped and the node named;
    Ctrl-C stops it, worker 0 saving the epoch in progress.

    With --hosts each node is `ssh -tt HOST` running the same command, in the same working
    directory, with the same Python: every host needs passwordless ssh (BatchMode), pyjlchar
    installed at the same path, and the same files (config, corpus, checkpoint folder; a shared
    file system does it). PYJLCHAR_SSH replaces `ssh` (e.g. "ssh -p 2222"); this process's
    PYJLCHAR_* settings go along.

    \b
    Examples:
      pyjlchar launch -n 2 -s 1 -- train --config quick --kvstore dist_sync
      pyjlchar launch --hosts hosts.txt -n 4 -s 2 -- train --config quick --kvstore dist_sync
    """
    from .distributed import launch as job

    if command[0] != "train":
        raise UserError(f"`pyjlchar launch` runs training jobs, not `{command[0]}`: "
                        "pyjlchar launch -n 2 -s 1 -- train --config FILE --kvstore dist_sync")
    # The training settings, checked before any process starts; their run is what a failure names.
    settings = _settings(train.make_context("train", list(command[1:])).params)
    run_prefix = Path(settings["run"]["checkpoint_dir"]) / settings["model"]["name"]
    try:
        job.run(list(command), workers, servers, log=lambda line: click.echo(line, err=True), hosts_file=hosts_file,
                port=port, run_prefix=run_prefix)
    except Interrupted as e:
        saved = job.last_checkpoint(run_prefix)
        if saved is None:
            click.echo(f"{e.what} before the job saved a checkpoint: there is nothing to resume", err=True)
        else:
            again = ["pyjlchar", *sys.argv[1:]] + ([] if "--resume" in command else ["--resume"])
            click.echo(f"{e.what}; the job's newest checkpoint is {saved}. Resume with:\n  " + " ".join(again),
                       err=True)
        sys.exit(e.exit_code)


@cli.command()
def setup() -> None:
    """Install what pyjlchar needs besides its Python packages: Julia (on Debian, as root:
    Julia 1.5.3 from Debian bullseye; elsewhere it says what to install), libgomp1 and
    Graphviz, libmxnet (the mxnet wheel), the libunwind Julia 1.5 needs, and pyjlchar's Julia
    system image (a few minutes, once per version). Each step checks first: running it again
    is quick. PYJLCHAR_SYSIMAGE=off leaves the image out (commands then compile as they start).
    """
    from .ops import install

    install.run(lambda line: click.echo(line, err=True))
    click.echo("setup: done; `pyjlchar doctor` shows what this installation has", err=True)


@cli.command()
@_config_option("flags override it. Without it, the original's settings.")
@settings_flags("data", "model", "train", "run", "compute")
@click.option("--resume", is_flag=True,
              help="Continue the run saved in the checkpoint folder where it stopped "
                   "(weights, optimizer state, epoch, random state).")
@click.option("--allow-new-text", is_flag=True,
              help="With --resume: go on with a corpus whose text changed since the run started "
                   "(it must use only characters of the run's vocabulary).")
@_set_option(f"{SET_EXAMPLE} or --set model.graph=unrolled")
def train(resume, allow_new_text, **params):
    """Train a character-level language model and save a checkpoint after every epoch.

    Every setting is a flag (below) and a key of the --config file; the settings come from the
    defaults, then --config, then --set, then the flags. The [train] settings are the run's
    course, which --resume keeps; [run] and [compute] may change when it resumes.

    \b
    Files, for model name NAME in the checkpoint folder:
      NAME-symbol.json    the network (libmxnet's JSON; Apache MXNet loads it)
      NAME-0001.params    weights after epoch 1 (MXNet's .params format)
      NAME-0001.states    optimizer state, for --resume
      NAME-meta.json      vocabulary, settings, per-epoch NLL history
      NAME-log.jsonl      the metrics log (pyjlchar plot draws it)

    Ctrl-C, SIGTERM or SIGHUP save a checkpoint of the epoch in progress and print the
    command that resumes. One run is trained by one process at a time (a lock file,
    NAME.lock, guards it).

    \b
    Examples:
      pyjlchar train --config config/shakespeare.toml --epochs 2
      pyjlchar train --config quick --learning-rate 0.002 --set train.grad_clip=5 --graph unrolled
    """
    from . import api
    from .distributed import job
    from .show.progress import Reporter

    settings = _settings(params)
    if job.role() in ("scheduler", "server"):  # a node of a parameter-server job: no training
        api.serve_job(settings)
        return
    reporter = Reporter()
    try:
        api.train(settings, resume=resume, allow_new_text=allow_new_text, on_progress=reporter)
    except Interrupted as e:
        reporter.close()
        saved = reporter.checkpoints or resume
        if job.role() == "worker":
            if saved:  # else worker 0, which saves, speaks for the job
                click.echo(f"{e.what}; the checkpoint above keeps the job's work so far: start the job again "
                           "with --resume added to its train command to continue it", err=True)
        elif saved:
            again = ["pyjlchar", *sys.argv[1:]] + ([] if resume else ["--resume"])
            click.echo(f"{e.what}; the checkpoint above keeps the work so far. Resume with:\n  "
                       + " ".join(again), err=True)
        else:
            click.echo(f"{e.what} before the first checkpoint was saved: there is nothing to resume; "
                       "start the run again", err=True)
        sys.exit(e.exit_code)
    finally:
        reporter.close()


_CHECKPOINT = click.option("--checkpoint", required=True, metavar="PATH",
                           help="A .params file (checkpoints/ptb-0021.params), or a run's prefix "
                                "(checkpoints/ptb) to use its epoch with the best validation NLL.")
_SEED = SECTIONS["train"].keys["seed"]


@cli.command()
@_CHECKPOINT
@_config_option("its [sample] section gives the defaults.")
@settings_flags("sample", "model.graph", "compute.context")
@click.option("--prime-file", metavar="FILE", help="Start from the text of this UTF-8 file, as it is "
                                                   "(instead of --prime; --prime - reads stdin).")
@_option("seed", _SEED, name="draw_seed", help_text="The seed of the draws: the same seed gives the same text.",
         shown="a random seed", ranged=True)
@click.option("--stream", is_flag=True,
              help="Write one sample as it is drawn, endless unless a length is given: it runs until "
                   "Ctrl-C or until the output's reader stops (| head -c 1000).")
@_set_option("--set sample.top_k=10")
def sample(checkpoint, prime_file, draw_seed, stream, **params):
    """Generate text from a trained checkpoint; samples go to stdout. A single sample is
    written as it is drawn; Ctrl-C prints what was drawn so far. --graph is the graph that runs
    the checkpoint, whichever trained it (the same probabilities up to rounding).

    --stream writes one sample as it is drawn, with no end unless --length, --set sample.length
    or the --config file's [sample] length gives one: Ctrl-C, or a reader that stops reading,
    ends it. With the same seed and length it writes the text sample writes without it.

    \b
    Examples:
      pyjlchar sample --checkpoint checkpoints/ptb --prime "ROMEO:" --length 300 --seed 1
      pyjlchar sample --checkpoint checkpoints/ptb --prime-file opening.txt --top-p 0.9
      head -c 200 play.txt | pyjlchar sample --checkpoint checkpoints/ptb --prime - --set sample.top_k=10
      pyjlchar sample --checkpoint checkpoints/ptb --stream --temperature 0.8 | head -c 5000
    """
    from . import api
    from .settings import given

    params["prime"] = _prime_text(params["prime"], prime_file)
    settings = _settings(params)
    flags, assignments = _given(params), params["assignments"]
    model = api.load(checkpoint, graph=settings["model"]["graph"], context=settings["compute"]["context"])
    if stream:
        # Only the command line's num_samples is refused: a config file's is for sampling
        # without --stream (quick.toml's is 3).
        asked = settings["sample"]["num_samples"]
        if "sample.num_samples" in given(None, flags, assignments) and asked != 1:
            given_as = "--num-samples" if params["num_samples"] is not None else "--set sample.num_samples"
            raise UserError(f"--stream writes one sample, not {asked}: leave out {given_as}, "
                            f"or leave out --stream to draw {asked} samples")
        endless = "sample.length" not in given(params["config_path"], flags, assignments)
        _stream_sample(model, settings["sample"], None if endless else settings["sample"]["length"], draw_seed)
        return
    count = settings["sample"]["num_samples"]
    drawn: list[list[str]] = [[] for _ in range(count)]

    def on_event(event: dict) -> None:
        if event["event"] == "text":
            for parts, new in zip(drawn, event["texts"]):
                parts.append(new)
            if count == 1:  # one sample is written as it is drawn
                click.echo(event["texts"][0], nl=False)
                sys.stdout.flush()

    try:
        texts = model.sample(**settings["sample"], seed=draw_seed, on_progress=on_event)
    except Interrupted as e:
        _print_samples(["".join(parts) for parts in drawn] if count > 1 else [""])
        click.echo(f"{e.what}; the text above is what was drawn so far", err=True)
        sys.exit(e.exit_code)
    _print_samples(texts if count > 1 else [""])


def _stream_sample(model, drawing: dict, length: int | None, seed: int | None) -> None:
    """The prime, then the characters drawn after it, each chunk written as it comes; endless
    when `length` is None."""
    try:
        # Opened first: a prime the model cannot read is refused before anything is written.
        text = model.stream(drawing["prime"], length=length, temperature=drawing["temperature"],
                            top_k=drawing["top_k"], top_p=drawing["top_p"], seed=seed)
        chunk = drawing["prime"]
        while chunk:
            click.echo(chunk, nl=False)  # which flushes: each chunk shows as it is drawn
            chunk = text.next_chunk()
    except KeyboardInterrupt as e:  # in a Julia call (Interrupted), or in Python between two
        stopped = e if isinstance(e, Interrupted) else Interrupted(signal.SIGINT)
        click.echo()
        click.echo(f"{stopped.what}; the text above is what was drawn so far", err=True)
        sys.exit(stopped.exit_code)
    click.echo()


def _prime_text(prime: str | None, prime_file: str | None) -> str | None:
    """The prime text --prime or --prime-file gives (--prime - reads stdin); None for neither."""
    if prime is not None and prime_file is not None:
        raise UserError("--prime and --prime-file both give the prime text: keep one of them")
    if prime_file is not None:
        where, text = f"prime file {prime_file}", read_utf8(prime_file, "prime file", "check the path")
    elif prime == "-":
        where = "the prime text on stdin"
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"{where} is not UTF-8 (bad byte at offset {e.start}): send UTF-8 text") from None
    else:
        return prime
    if not text:
        raise UserError(f"{where} is empty: it must hold the text the samples start from")
    return text


def _print_samples(texts: list[str]) -> None:
    """Several samples under headers; one sample's text is already out, and gets its newline."""
    for i, text in enumerate(texts, 1):
        if len(texts) > 1:
            click.echo(f"## Sample {i}")
        click.echo(text)
        if len(texts) > 1:
            click.echo()


@cli.command(name="eval")
@_CHECKPOINT
@click.option("--text", "texts", required=True, multiple=True, metavar="PATH",
              help="UTF-8 text to score: a file, or a folder (every *.txt file under it, in sorted "
                   "order). Give it several times to score them as one text, in that order.")
@option_flag("streams", shown=f"one per {EVAL_BYTES_PER_STREAM // 1024} KiB, at most {OPTIONS['streams'].default}")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@settings_flags("model.graph", "compute.context")
def evaluate(checkpoint, texts, streams, as_json, **params):
    """Score a text with a checkpoint: NLL per character (natural log), perplexity, bits per
    character. --graph runs the checkpoint, whichever graph trained it (the same scores up to
    rounding).

    The text is cut into N contiguous pieces (--streams), scored side by side: in each, the
    state is carried from each character to the next. Every character after the first is
    predicted once (a piece starts from the last character of the one before, with a zero
    state). With --streams 1 the text is one continuous stream. Texts are encoded once into
    the cache and read from there, so their size is not limited by memory.

    \b
    Examples:
      pyjlchar eval --checkpoint checkpoints/ptb --text held-out.txt
      pyjlchar eval --checkpoint checkpoints/ptb --text texts/ --streams 1 --json
    """
    from . import api
    from .corpus.files import corpus_files
    from .show.progress import Reporter

    settings = _settings(params)
    corpus_files(list(texts), "text")  # before the checkpoint loads: fail fast
    reporter = Reporter()
    try:
        result = api.load(checkpoint, graph=settings["model"]["graph"], context=settings["compute"]["context"]) \
            .evaluate(list(texts), streams=streams, on_progress=reporter)
    finally:
        reporter.close()
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(f"NLL = {result['nll']:.4f}\nperplexity = {result['perplexity']:.4f}\n"
                   f"bits per char = {result['bits_per_char']:.4f}\n"
                   f"characters = {result['n_chars']} ({result['unknown']} outside the vocabulary)\n"
                   f"streams = {result['streams']}")


@cli.command()
@click.argument("prefixes", nargs=-1, required=True, metavar="PREFIX...")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="The chart's file; its suffix (.svg, .png or .pdf) picks the format.")
def plot(prefixes, output):
    """Draw the training and validation NLL of one or more runs against the characters seen,
    on one chart: one colour per run, named by its prefix (checkpoints/ptb, as --checkpoint
    names a run), read from the run's metrics log, PREFIX-log.jsonl. Runs in progress can be
    drawn; steps a resumed run took again replace those it logged before. A run older than the
    metrics log has only its meta file's per-epoch history: then every run is drawn by epoch.

    \b
    Examples:
      pyjlchar plot checkpoints/ptb -o curves.svg
      pyjlchar plot checkpoints/small checkpoints/big -o compare.png
    """
    from . import api

    api.curves(*prefixes, output=output)
    click.echo(f"wrote {output}", err=True)


@cli.group()
def corpus() -> None:
    """Look at a corpus: what it holds and its encoded cache."""


@corpus.command()
@click.argument("sources", nargs=-1, metavar="[NAME|PATH]...")
@_config_option("its [data] section gives the corpus and train_ratio.")
@settings_flags("data.train_ratio")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(sources, as_json, **params):
    """What a corpus holds: characters, distinct characters (the most and least frequent),
    lines, bytes, the characters that train and validate at train_ratio, and its cache entry.

    NAME|PATH is a built-in corpus (shakespeare, shakespeare-full), a UTF-8 text file or a
    folder (every *.txt file under it, in sorted order); several are read in order. Without
    one, the config's corpus. The first use of a corpus encodes it into the cache (a progress
    line shows on a terminal); later ones read the cache.

    \b
    Examples:
      pyjlchar corpus info shakespeare
      pyjlchar corpus info texts/ --train-ratio 0.95 --json
    """
    from . import api
    from .corpus import report as corpus_report
    from .show.progress import Reporter

    settings = _settings({**params, "corpus": sources})
    reporter = Reporter()
    try:
        report = api.corpus_info(config=settings, on_progress=reporter)
    finally:
        reporter.close()
    click.echo(json.dumps(report, indent=2) if as_json else corpus_report.render(report))


@cli.command()
@settings_flags("model.cell", "model.graph", "model.layers", "model.hidden", "model.embed", "model.dropout",
                defaults=DRAWING)
@option_flag("steps")
@option_flag("vocab")
@option_flag("batch")
@click.option("--show-params", is_flag=True, help="Also draw the weight, bias and initial-state variables.")
@click.option("--title", help='Title of the drawing (default "char-lstm: L layers, S steps").')
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "png", "pdf"]),
              help="dot prints the graph's text; svg, png and pdf draw it with Graphviz's `dot` "
                   "into the -o file. Default: from the -o file's suffix, else dot.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write to FILE instead of stdout.")
def visualize(steps, vocab, batch, show_params, title, fmt, output, **params):
    """Draw the network as a Graphviz graph (DOT on stdout by default): the unrolled graph
    (the default here: the original's picture) or libmxnet's RNN operator (--graph fused),
    with the final states as outputs.

    Boxes are the network's operations, coloured by kind (FullyConnected red, Activation
    yellow, outputs green, other operations pink), labelled with name, operation and
    parameters. Arrows point the way data flows and carry the shape (batch first) it has.
    The same options always give the same bytes.

    \b
    Examples:
      pyjlchar visualize --layers 1 --steps 2 > lstm.dot
      pyjlchar visualize --layers 2 --steps 3 --dropout 0.2 -o lstm.svg
      pyjlchar visualize --graph fused --layers 2 -o fused.svg
    """
    from . import api
    from .show import drawing as vis

    _settings(params)  # the flags checked as the command line's (api.graph would name keyword arguments)
    fmt = vis.output_format(fmt, output)
    if fmt != "dot":
        if output is None:
            raise UserError(f"--format {fmt} writes a file: add -o FILE, e.g. -o lstm.{fmt}")
        vis.require_dot(fmt)  # before the graph is built: fail fast
    unrolled = (params["graph"] or DRAWING["graph"]) == "unrolled"
    cells = (params["layers"] or DRAWING["layers"]) * (steps or DRAWING["steps"])
    if unrolled and cells > 100:  # hundreds of nodes per cell: say why it takes a while
        click.echo(f"building the unrolled graph of {cells} cells; this takes a while ...", err=True)
    dot = api.graph(steps=steps, vocab=vocab, batch=batch, show_params=show_params, title=title,
                    **{key: value for key, value in params.items() if key in SECTION_OF}).source
    data = dot.encode() if fmt == "dot" else vis.render(dot, fmt)
    if output is None:
        click.echo(dot, nl=False)
        return
    try:
        Path(output).write_bytes(data)
    except OSError as e:
        raise UserError(f"cannot write {output} ({e.strerror}); choose a file in an existing, "
                        "writable folder") from None


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@settings_flags("model.cell", "model.layers", "model.hidden", "model.embed", "train.seq_len", "train.batch_size",
                "compute.context")
@click.option("--seconds", type=click.FloatRange(min=1), default=12, show_default=True,
              help="Training time per graph (sampling takes a third of it per measurement).")
@click.option("--no-cold-start", is_flag=True, help="Skip timing the commands from fresh processes.")
def bench(as_json, seconds, no_cold_start, **params):
    """Measure this installation, in about a minute: training chars/s with each graph (the
    unrolled one and the fused RNN operator) on the built-in Shakespeare plays, sampling
    chars/s with 1 and 32 streams, the cold start of train, sample and visualize, and peak
    memory. The model is the original's unless the options say otherwise; --context gpu
    measures on a GPU (cold starts on the CPU).

    \b
    For a comparison with PyTorch and Apache MXNet's Python API, see bench/compare.py.
    """
    from .ops import throughput

    report = throughput.run(_settings(params), train_seconds=seconds, sample_seconds=seconds / 3,
                            cold_start=not no_cold_start, log=lambda line: click.echo(line, err=True))
    click.echo(json.dumps(report, indent=2) if as_json else throughput.render(report))


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every failure into one line on stderr and an exit code; the streams
    and Ctrl-C behave as show/streams.py and bridge/host.py describe."""
    from .distributed import job

    try:
        _main(argv, node=job.role() is not None)
    except SystemExit as e:
        if e.code and (job.role() is not None and bridge.started() or bridge.starting()):
            host.leave(e.code if isinstance(e.code, int) else 1)
        raise


def _main(argv: list[str] | None, node: bool) -> None:
    args = sys.argv[1:] if argv is None else argv
    watch = host.InterruptWatch(bridge.started, node_grace=GRACE_S if node else None)
    try:
        streams.guard()
        watch.start()
        cli.main(args=args, prog_name="pyjlchar", standalone_mode=False)
        sys.stdout.flush()  # the last of the output fails here, not unreported at exit
    except click.exceptions.Abort:  # click's form of KeyboardInterrupt
        watch.report()
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt as e:
        watch.report(e.what if isinstance(e, Interrupted) else "interrupted")
        sys.exit(e.exit_code if isinstance(e, Interrupted) else 130)
    except OutputError as e:
        streams.drop_pending_output()
        message = streams.output_error_message(e)
        if message is None:
            sys.exit(1)  # the reader has gone (`| head`): quietly
        if _debug[0]:
            raise
        click.echo(message, err=True)
        sys.exit(1)
    except (UserError, JuliaError) as e:
        if _debug[0]:
            if getattr(e, "backtrace", ""):
                click.echo(f"Julia backtrace:\n{e.backtrace}", err=True)
            raise
        kind = "" if isinstance(e, UserError) else f"{e.kind}: "
        click.echo(f"error: {kind}{str(e).strip()}", err=True)
        if not isinstance(e, UserError):
            click.echo("(run with --debug for the backtrace)", err=True)
        sys.exit(1)
    except OSError as e:  # a file operation that no command turned into a UserError
        if _debug[0]:
            raise
        click.echo(f"error: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""), err=True)
        click.echo("(run with --debug for the backtrace)", err=True)
        sys.exit(1)
    finally:
        watch.leaving.set()
        try:
            sys.stdout.flush()
        except OutputError:  # output that a reported failure cut short: dropped, not a new error
            host.devnull_on(1)
        except (OSError, ValueError):  # a caller's stream: theirs to handle
            pass
