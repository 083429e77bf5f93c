"""The `pyjlchar` command. Data (samples, DOT, reports) goes to stdout, logs to stderr."""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click

from . import julia, streams
from .config import DEFAULTS, DRAWING, EVAL_BYTES_PER_STREAM, EVAL_STREAMS, SET_EXAMPLE, SETTINGS, read_utf8
from .errors import Interrupted, JuliaError, OutputError, UserError
from .launch import GRACE_S, SSH_PORT

_MODEL, _TRAIN = DEFAULTS["model"], DEFAULTS["train"]


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
    with --hosts on other machines. When any process fails the whole job is stopped and the node
    named; Ctrl-C stops it, worker 0 saving the epoch in progress.

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
    from . import launch as job

    if command[0] != "train":
        raise UserError(f"`pyjlchar launch` runs training jobs, not `{command[0]}`: "
                        "pyjlchar launch -n 2 -s 1 -- train --config FILE --kvstore dist_sync")
    # The training settings, checked before any process starts; their run is what a failure names.
    settings = _train_settings(**train.make_context("train", list(command[1:])).params)
    run_prefix = Path(settings["train"]["checkpoint_dir"]) / settings["model"]["name"]
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
    from . import install

    install.run(lambda line: click.echo(line, err=True))
    click.echo("setup: done; `pyjlchar doctor` shows what this installation has", err=True)


def _config_and_flags(config_path: str | None, flags: dict, assignments: tuple = ()) -> dict:
    from . import config

    return config.load_config(config_path, flags, assignments)


def _set_option(example: str, note: str = ""):
    """--set, for a command that reads a config file."""
    return click.option(
        "--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
        help=f"Set a key of the config file, e.g. {example}; give it several times for several keys. VALUE "
             "is read as in the TOML file (3, 0.5, \"text\", [\"a.txt\", \"b/\"], true); one that is not TOML is "
             "taken as a string. Applied over --config; the other flags win over it." + note)


def _choices(section: str, key: str) -> click.Choice:
    """A flag's choices: the setting's, as config.SETTINGS lists them."""
    return click.Choice(SETTINGS[section][key].choices)


def _one_or_list(values: tuple):
    """A repeatable option's values as a setting: None when not given, else a name or a list."""
    return None if not values else values[0] if len(values) == 1 else list(values)


@cli.command()
@click.option("--config", "config_path", metavar="FILE",
              help="TOML run configuration: a file, or a shipped one by name (shakespeare, quick); "
                   "flags override it. "
                   "Without it, the original's settings.")
@click.option("--context", metavar="DEVICES",
              help="cpu, gpu, gpu:0,1 or cpu:0,1 (several devices train data-parallel).")
@click.option("--epochs", type=int, help="Number of passes over the training text.")
@click.option("--batch-size", type=int, help="Sequences per batch.")
@click.option("--seq-len", type=int, help="Characters per unrolled sequence.")
@click.option("--corpus", multiple=True, metavar="NAME|PATH",
              help='"shakespeare", "shakespeare-full", a UTF-8 text file, or a folder (every *.txt file '
                   'under it, in sorted order). Give it several times to train on several, in that order. '
                   'Encoded once into the cache, then read from there.')
@click.option("--checkpoint-dir", metavar="DIR", help="Where checkpoints go (default checkpoints).")
@click.option("--seed", type=int, help="Random seed; the same seed repeats a run exactly.")
@click.option("--name", metavar="NAME", help="The model's name, which names its checkpoint files (default ptb).")
@click.option("--layers", type=int, help="Stacked LSTM layers.")
@click.option("--hidden", type=int, help="Units per LSTM layer.")
@click.option("--embed", type=int, help="Size of the character embedding.")
@click.option("--dropout", type=float, help="Dropout probability between layers, from 0 up to but excluding 1.")
@click.option("--cell", type=_choices("model", "cell"),
              help="lstm: the original's unrolled cells; fused: the same LSTM through libmxnet's RNN "
                   "operator (faster). A resumed run converts its checkpoint to this cell.")
@click.option("--optimizer", type=_choices("train", "optimizer"), help="The optimizer that takes the steps.")
@click.option("--learning-rate", type=float, help="The optimizer's step size.")
@click.option("--resume", is_flag=True,
              help="Continue the run saved in the checkpoint folder where it stopped "
                   "(weights, optimizer state, epoch, random state).")
@click.option("--kvstore", type=_choices("train", "kvstore"),
              help="How gradients are summed: local or device (this process's devices); dist_sync or "
                   "dist_device_sync (the workers of a parameter-server job, see `pyjlchar launch`, each "
                   "taking every step together); dist_async (each worker's step applied by the servers "
                   "as it arrives).")
@click.option("--gradient-compression", type=_choices("train", "gradient_compression"),
              help="2bit: a job's workers send each gradient value as +t, -t or 0 (t = "
                   "compression_threshold in [train]), carrying the rest over to the next step.")
@click.option("--allow-new-text", is_flag=True,
              help="With --resume: go on with a corpus whose text changed since the run started "
                   "(it must use only characters of the run's vocabulary).")
@_set_option(f"{SET_EXAMPLE} or --set model.cell=fused")
def train(config_path, context, epochs, batch_size, seq_len, corpus, checkpoint_dir, seed, name, layers, hidden,
          embed, dropout, cell, optimizer, learning_rate, resume, kvstore, gradient_compression, allow_new_text,
          assignments):
    """Train a character-level LSTM and save a checkpoint after every epoch.

    \b
    Files, for model name NAME in the checkpoint folder:
      NAME-symbol.json    the network (libmxnet's JSON; Apache MXNet loads it)
      NAME-0001.params    weights after epoch 1 (MXNet's .params format)
      NAME-0001.states    optimizer state, for --resume
      NAME-meta.json      vocabulary, settings, per-epoch NLL history

    Ctrl-C, SIGTERM or SIGHUP save a checkpoint of the epoch in progress and print the
    command that resumes. One run is trained by one process at a time (a lock file,
    NAME.lock, guards it).

    Settings come from the defaults, then --config, then --set, then the other flags.

    \b
    Examples:
      pyjlchar train --config config/shakespeare.toml --epochs 2
      pyjlchar train --config quick --learning-rate 0.002 --set train.grad_clip=5 --set model.cell=fused
    """
    from . import api, charlstm
    from .progress import Reporter

    settings = _train_settings(config_path, context, epochs, batch_size, seq_len, corpus, checkpoint_dir, seed, name,
                               layers, hidden, embed, dropout, cell, optimizer, learning_rate, kvstore,
                               gradient_compression, assignments)
    if charlstm.job_role() in ("scheduler", "server"):  # a node of a parameter-server job: no training
        julia.run(charlstm.ps_node(settings))
        return
    reporter = Reporter()
    try:
        api.train(settings, resume=resume, allow_new_text=allow_new_text, on_progress=reporter)
    except Interrupted as e:
        reporter.close()
        saved = reporter.checkpoints or resume
        if charlstm.job_role() == "worker":
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


def _train_settings(config_path, context, epochs, batch_size, seq_len, corpus, checkpoint_dir, seed, name, layers,
                    hidden, embed, dropout, cell, optimizer, learning_rate, kvstore, gradient_compression,
                    assignments, **_) -> dict:
    """The settings `train`'s options give (the others are ignored)."""
    flags = {"train.context": context, "train.epochs": epochs, "train.batch_size": batch_size,
             "train.seq_len": seq_len, "data.corpus": _one_or_list(corpus), "train.checkpoint_dir": checkpoint_dir,
             "train.seed": seed, "model.name": name, "model.layers": layers, "model.hidden": hidden,
             "model.embed": embed, "model.dropout": dropout, "model.cell": cell, "train.optimizer": optimizer,
             "train.learning_rate": learning_rate, "train.kvstore": kvstore,
             "train.gradient_compression": gradient_compression}
    return _config_and_flags(config_path, flags, assignments)


@cli.command()
@click.option("--checkpoint", required=True, metavar="PATH",
              help="A .params file (checkpoints/ptb-0021.params), or a run's prefix "
                   "(checkpoints/ptb) to use its epoch with the best validation NLL.")
@click.option("--config", "config_path", metavar="FILE", help="Take the defaults from this file's [sample] section.")
@click.option("--length", type=int,
              help="Characters to generate per sample (default 100; with --stream, no end unless a "
                   "length is given).")
@click.option("--temperature", type=float, help="1 samples the model as is, lower is more conservative, 0 always takes the likeliest character.")
@click.option("--top-k", type=int, help="Draw only from the k likeliest characters (0: no limit).")
@click.option("--top-p", type=float,
              help="Then draw only from the likeliest characters whose probabilities sum to at least P "
                   "(nucleus sampling), P above 0 and at most 1 (default 1: no limit).")
@click.option("--prime", help='Text the samples start from (default "a"); - reads it from stdin.')
@click.option("--prime-file", metavar="FILE", help="Start from the text of this UTF-8 file, as it is.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1),
              help="Random seed, 0 to 2147483647: the same seed gives the same text.")
@click.option("--num-samples", type=int, help="Samples to draw, all in one batch (default 10; --stream draws one).")
@click.option("--context", metavar="DEVICE", help="cpu or gpu (default cpu).")
@click.option("--cell", type=click.Choice(["lstm", "fused"]), default="fused", show_default=True,
              help="The graph that runs the checkpoint, whichever cell trained it: fused (libmxnet's "
                   "RNN operator) is the faster; lstm (the unrolled cells) gives the same "
                   "probabilities up to rounding.")
@click.option("--stream", is_flag=True,
              help="Write one sample as it is drawn, endless unless a length is given: it runs until "
                   "Ctrl-C or until the output's reader stops (| head -c 1000).")
@_set_option("--set sample.top_k=10", " Sampling uses the [sample] keys and train.context.")
def sample(checkpoint, config_path, length, temperature, top_k, top_p, prime, prime_file, seed, num_samples, context,
           cell, stream, assignments):
    """Generate text from a trained checkpoint; samples go to stdout. A single sample is
    written as it is drawn; Ctrl-C prints what was drawn so far.

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
    from . import config

    flags = {"sample.length": length, "sample.temperature": temperature, "sample.top_k": top_k,
             "sample.top_p": top_p, "sample.prime": _prime_text(prime, prime_file),
             "sample.num_samples": num_samples, "train.context": context}
    settings = _config_and_flags(config_path, flags, assignments)
    if stream:
        # Only the command line's num_samples is refused: a config file's is for sampling
        # without --stream (quick.toml's is 3).
        asked = settings["sample"]["num_samples"]
        if "sample.num_samples" in config.given(None, flags, assignments) and asked != 1:
            given_as = "--num-samples" if num_samples is not None else "--set sample.num_samples"
            raise UserError(f"--stream writes one sample, not {asked}: leave out {given_as}, "
                            f"or leave out --stream to draw {asked} samples")
        endless = "sample.length" not in config.given(config_path, flags, assignments)
        _stream_sample(api.load(checkpoint, cell=cell, context=settings["train"]["context"]), settings["sample"],
                       None if endless else settings["sample"]["length"], seed)
        return
    streams = settings["sample"]["num_samples"]
    drawn: list[list[str]] = [[] for _ in range(streams)]

    def on_event(event: dict) -> None:
        if event["event"] == "text":
            for parts, new in zip(drawn, event["texts"]):
                parts.append(new)
            if streams == 1:  # one sample is written as it is drawn
                click.echo(event["texts"][0], nl=False)
                sys.stdout.flush()

    model = api.load(checkpoint, cell=cell, context=settings["train"]["context"])
    try:
        texts = model.sample(**settings["sample"], seed=seed, on_progress=on_event)
    except Interrupted as e:
        _print_samples(["".join(parts) for parts in drawn] if streams > 1 else [""])
        click.echo(f"{e.what}; the text above is what was drawn so far", err=True)
        sys.exit(e.exit_code)
    _print_samples(texts if streams > 1 else [""])


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
@click.option("--checkpoint", required=True, metavar="PATH",
              help="A .params file, or a run's prefix (checkpoints/ptb) for its best epoch.")
@click.option("--text", "texts", required=True, multiple=True, metavar="PATH",
              help="UTF-8 text to score: a file, or a folder (every *.txt file under it, in sorted "
                   "order). Give it several times to score them as one text, in that order.")
@click.option("--streams", type=click.IntRange(min=1), metavar="N",
              help=f"Score the text as N contiguous pieces side by side, the columns of one batch (much "
                   f"faster). Default: one per {EVAL_BYTES_PER_STREAM // 1024} KiB of text, at most "
                   f"{EVAL_STREAMS}. 1 gives the single-stream figure.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--context", metavar="DEVICE", help="cpu or gpu (default cpu).")
@click.option("--cell", type=click.Choice(["lstm", "fused"]), default="fused", show_default=True,
              help="The graph that runs the checkpoint, whichever cell trained it: fused is the "
                   "faster; lstm (the unrolled cells) gives the same scores up to rounding.")
def evaluate(checkpoint, texts, streams, as_json, context, cell):
    """Score a text with a checkpoint: NLL per character (natural log), perplexity, bits per
    character.

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
    from .corpus import corpus_files
    from .progress import Reporter

    settings = _config_and_flags(None, {"train.context": context})
    corpus_files(list(texts), "text")  # before the checkpoint loads: fail fast
    reporter = Reporter()
    try:
        result = api.load(checkpoint, cell=cell, context=settings["train"]["context"]).evaluate(
            list(texts), streams=streams, on_progress=reporter)
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
@click.option("--config", "config_path", metavar="FILE",
              help="Take the corpus and train_ratio from this file's [data] section.")
@click.option("--train-ratio", type=float,
              help=f"The share of the text that trains (default {DEFAULTS['data']['train_ratio']}).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(sources, config_path, train_ratio, as_json):
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
    from . import charlstm, corpus_report
    from .progress import Reporter

    settings = _config_and_flags(config_path, {"data.corpus": _one_or_list(sources),
                                               "data.train_ratio": train_ratio})
    data = settings["data"]
    reporter = Reporter()
    try:
        summary = julia.run(charlstm.corpus_info(data["corpus"], data["train_ratio"]), on_event=reporter)
    finally:
        reporter.close()
    report = corpus_report.report(summary)
    click.echo(json.dumps(report, indent=2) if as_json else corpus_report.render(report))


@cli.command()
@click.option("--layers", type=click.IntRange(min=1), default=DRAWING["layers"], show_default=True,
              help="Stacked LSTM layers.")
@click.option("--steps", type=click.IntRange(min=1), default=DRAWING["steps"], show_default=True,
              help="Time steps unrolled (characters per sequence).")
@click.option("--hidden", type=click.IntRange(min=1), default=_MODEL["hidden"], show_default=True,
              help="Units per LSTM layer.")
@click.option("--embed", type=click.IntRange(min=1), default=_MODEL["embed"], show_default=True,
              help="Size of the character embedding.")
@click.option("--vocab", type=click.IntRange(min=1), default=DRAWING["vocab"], show_default=True,
              help="Number of classes (characters in the vocabulary, plus the unknown class).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=_MODEL["dropout"], show_default=True,
              help="Dropout probability, at least 0 and below 1; above 0 adds Dropout nodes.")
@click.option("--cell", type=click.Choice(["lstm", "fused"]), default=_MODEL["cell"], show_default=True,
              help="lstm: the original's unrolled cells, step by step; fused: libmxnet's RNN operator.")
@click.option("--batch", type=click.IntRange(min=1), default=DRAWING["batch"], show_default=True,
              help="Batch size the edge shapes are given for.")
@click.option("--show-params", is_flag=True, help="Also draw the weight, bias and initial-state variables.")
@click.option("--title", help='Title of the drawing (default "char-lstm: L layers, S steps").')
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "png", "pdf"]),
              help="dot prints the graph's text; svg, png and pdf draw it with Graphviz's `dot` "
                   "into the -o file. Default: from the -o file's suffix, else dot.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write to FILE instead of stdout.")
def visualize(layers, steps, hidden, embed, vocab, dropout, cell, batch, show_params, title, fmt, output):
    """Draw the LSTM network as a Graphviz graph (DOT on stdout by default): the unrolled
    cells (--cell lstm) or libmxnet's RNN operator (--cell fused), with the final states as
    outputs.

    Boxes are the network's operations, coloured by kind (FullyConnected red, Activation
    yellow, outputs green, other operations pink), labelled with name, operation and
    parameters. Arrows point the way data flows and carry the shape (batch first) it has.
    The same options always give the same bytes.

    \b
    Examples:
      pyjlchar visualize --layers 1 --steps 2 > lstm.dot
      pyjlchar visualize --layers 2 --steps 3 --dropout 0.2 -o lstm.svg
      pyjlchar visualize --cell fused --layers 2 -o fused.svg
    """
    from . import api
    from . import visualize as vis

    fmt = vis.output_format(fmt, output)
    if fmt != "dot":
        if output is None:
            raise UserError(f"--format {fmt} writes a file: add -o FILE, e.g. -o lstm.{fmt}")
        vis.require_dot(fmt)  # before the graph is built: fail fast
    if cell == "lstm" and layers * steps > 100:  # hundreds of nodes per cell: say why it takes a while
        click.echo(f"building the unrolled graph of {layers * steps} LSTM cells; this takes a while ...", err=True)
    dot = api.graph(layers=layers, steps=steps, hidden=hidden, embed=embed, vocab=vocab, dropout=dropout, cell=cell,
                    batch=batch, show_params=show_params, title=title).source
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
@click.option("--layers", type=click.IntRange(min=1), default=_MODEL["layers"], show_default=True, help="LSTM layers.")
@click.option("--hidden", type=click.IntRange(min=1), default=_MODEL["hidden"], show_default=True,
              help="Units per LSTM layer.")
@click.option("--embed", type=click.IntRange(min=1), default=_MODEL["embed"], show_default=True, help="Embedding size.")
@click.option("--seq-len", type=click.IntRange(min=1), default=_TRAIN["seq_len"], show_default=True,
              help="Characters per sequence.")
@click.option("--batch-size", type=click.IntRange(min=1), default=_TRAIN["batch_size"], show_default=True,
              help="Sequences per batch.")
@click.option("--seconds", type=click.FloatRange(min=1), default=12, show_default=True,
              help="Training time per cell (sampling takes a third of it per measurement).")
@click.option("--no-cold-start", is_flag=True, help="Skip timing the commands from fresh processes.")
@click.option("--context", metavar="DEVICES",
              help="cpu (the default), gpu, gpu:N, or several such as gpu:0,1 (training data-parallel, "
                   "sampling on the first). Cold starts are timed on CPU.")
def bench(as_json, layers, hidden, embed, seq_len, batch_size, seconds, no_cold_start, context):
    """Measure this installation, in about a minute: training chars/s with each cell (the
    unrolled lstm and the fused RNN operator) on the built-in Shakespeare plays, sampling
    chars/s with 1 and 32 streams, the cold start of train, sample and visualize, and peak
    memory. The model is the original's unless the options say otherwise.

    \b
    For a comparison with PyTorch and Apache MXNet's Python API, see bench/compare.py.
    """
    from . import bench as b
    from .config import load_config

    settings = load_config(None, {"model.layers": layers, "model.hidden": hidden, "model.embed": embed,
                                  "train.seq_len": seq_len, "train.batch_size": batch_size,
                                  "train.context": context})
    report = b.run(settings, train_seconds=seconds, sample_seconds=seconds / 3, cold_start=not no_cold_start,
                   log=lambda line: click.echo(line, err=True))
    click.echo(json.dumps(report, indent=2) if as_json else b.render(report))


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every failure into one line on stderr and an exit code; the streams
    and Ctrl-C behave as pyjlchar/streams.py describes."""
    from .charlstm import job_role

    try:
        _main(argv, node=job_role() is not None)
    except SystemExit as e:
        if e.code and (job_role() is not None and julia.started() or julia.starting()):
            # A node of a parameter-server job that failed or was stopped may leave ps-lite's
            # threads running (a store that could not be closed, as its peers would never reach
            # the job's last barrier); Julia's thread may still be starting (Ctrl-C while it
            # starts). The interpreter's normal exit then runs libmxnet's C++ static destructors
            # under them and std::terminate ends the process with SIGABRT ("terminate called
            # without an active exception") after the message. Files are written and the run's
            # lock released by now: flush and leave without them.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, OutputError):
                    pass
            os._exit(e.code if isinstance(e.code, int) else 1)
        raise


def _main(argv: list[str] | None, node: bool) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if debug:
        julia.debug_default = True
    watch = streams.InterruptWatch(julia.started, node_grace=GRACE_S if node else None)
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
        if debug:
            raise
        click.echo(message, err=True)
        sys.exit(1)
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
    except OSError as e:  # a file operation that no command turned into a UserError
        if debug:
            raise
        click.echo(f"error: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""), err=True)
        click.echo("(run with --debug for the backtrace)", err=True)
        sys.exit(1)
    finally:
        watch.leaving.set()
        try:
            sys.stdout.flush()
        except OutputError:  # output that a reported failure cut short: dropped, not a new error
            streams.devnull_on(1)
        except (OSError, ValueError):  # a caller's stream: theirs to handle
            pass
