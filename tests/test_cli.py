"""`pyjlchar train`, `sample` and `eval` as a user runs them: real Julia, real libmxnet, real files."""
import json
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyjlchar import api, cli as commands
from pyjlchar.settings import DEFAULTS, DRAWING, OPTIONS, SECTION_OF, SECTIONS, toml_text

CORPUS_TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
               "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 40
# Julia's notice on a first start after its sources changed (no system image, no compiled cache yet).
PRECOMPILING = "[ Info: Precompiling"


def pyjlchar(*args, cwd=None, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "pyjlchar", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


def write_config(folder: Path, corpus: Path, **settings) -> Path:
    """A tiny run's config; `settings` are keys by name, each written in its own section."""
    chosen = {"corpus": str(corpus), "name": "tiny", "layers": 1, "hidden": 16, "embed": 8, "seq_len": 8,
              "batch_size": 4, "epochs": 1, "checkpoint_dir": str(folder / "ck"), **settings}
    sections: dict = {}
    for key, value in chosen.items():
        sections.setdefault(SECTION_OF[key], {})[key] = value
    lines = []
    for section, keys in sections.items():
        lines += [f"[{section}]"] + [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    path = folder / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def first_line(stderr: str) -> str:
    """The first line a command writes on stderr (after Julia's notice if it has to precompile)."""
    lines = [line for line in stderr.splitlines() if not line.startswith(PRECOMPILING)]
    return lines[0] if lines else ""


THREADS_LINE = re.compile(r"(warn: )?Threads: \d+ OpenMP threads? \(")
# What a command may say before it fails: train's first line (the threads), the encoding of a
# corpus not in the cache yet, Julia's precompiling.
PRELUDE = re.compile(r"(warn: )?Threads: \d+ OpenMP threads? \(|Encoded .* into |" + re.escape(PRECOMPILING))


def assert_clean_failure(out, *phrases):
    """A failure in one sentence, after the log lines that may come first."""
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "Stacktrace" not in out.stderr, out.stderr
    message = "\n".join(line for line in out.stderr.strip().splitlines() if not PRELUDE.match(line))
    assert message.startswith("error: "), message
    for phrase in phrases:
        assert phrase in message, message


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(folder, corpus)
    out = pyjlchar("train", "--config", config)
    assert out.returncode == 0, out.stderr
    return folder, config, out


def test_train_writes_checkpoints_and_logs_like_the_original(trained):
    folder, _, out = trained
    ck = folder / "ck"
    for name in ("tiny-symbol.json", "tiny-0001.params", "tiny-0001.states", "tiny-meta.json"):
        assert (ck / name).is_file(), name
    assert out.stdout == ""  # logs go to stderr
    for line in ("== Epoch 001/001 ==========", "## Training summary", "## Validation summary",
                 f"Saved checkpoint to '{ck / 'tiny-0001.params'}'"):
        assert line in out.stderr
    assert "NLL = " in out.stderr and "perplexity = " in out.stderr and "time = " in out.stderr
    meta = json.loads((ck / "tiny-meta.json").read_text())
    assert meta["epoch"] == 1 and len(meta["history"]) == 1
    assert "\n" in meta["vocab"] and meta["unknown_class"] == len(meta["vocab"])
    assert meta["model"]["graph"] == "fused" and meta["history"][0]["graph"] == "fused"   # the default graph
    assert meta["history"][0]["val_nll"] < math.log(meta["model"]["n_class"])  # it learned something
    assert not list(ck.glob(".*tmp*"))  # atomic writes leave nothing behind


def test_sample_is_repeatable_with_a_seed(trained):
    folder, _, _ = trained
    first = pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny", "--seed", 7, "--length", 40,
                     "--num-samples", 1, "--prime", "First")
    second = pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny-0001.params", "--seed", 7,
                      "--length", 40, "--num-samples", 1, "--prime", "First")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    text = first.stdout.rstrip("\n")
    assert text.startswith("First") and len(text) == len("First") + 40
    assert not text.endswith("?")


def test_sample_batch_greedy_and_top_k(trained):
    folder, _, _ = trained
    ck = folder / "ck" / "tiny"
    greedy = [pyjlchar("sample", "--checkpoint", ck, "--temperature", 0, "--length", 30, "--num-samples", 3,
                       "--seed", s).stdout for s in (1, 2)]
    assert greedy[0] == greedy[1]  # argmax ignores the seed
    assert greedy[0].count("## Sample") == 3
    top1 = pyjlchar("sample", "--checkpoint", ck, "--top-k", 1, "--length", 30, "--num-samples", 3, "--seed", 5)
    assert top1.stdout == greedy[0]


def test_eval_reports_nll_perplexity_and_bits(trained, tmp_path):
    folder, _, _ = trained
    text = tmp_path / "t.txt"
    text.write_text("First Citizen:\nSpeak, speak.\n")
    out = pyjlchar("eval", "--checkpoint", folder / "ck" / "tiny", "--text", text, "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["n_chars"] == len(text.read_text()) and r["n_predicted"] == r["n_chars"] - 1
    assert r["perplexity"] == pytest.approx(math.exp(r["nll"]))
    assert r["bits_per_char"] == pytest.approx(r["nll"] / math.log(2))


def test_resume_continues_and_a_fresh_start_refuses_to_overwrite(trained):
    folder, config, _ = trained
    again = pyjlchar("train", "--config", config)
    assert_clean_failure(again, "already holds a run", "--resume")
    resumed = pyjlchar("train", "--config", config, "--epochs", 2, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming after epoch 1" in resumed.stderr and "== Epoch 002/002" in resumed.stderr
    meta = json.loads((folder / "ck" / "tiny-meta.json").read_text())
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    changed = pyjlchar("train", "--config", config, "--epochs", 3, "--resume", "--seq-len", 6)
    assert_clean_failure(changed, "seq_len")
    # [run] may change when a run resumes, [train] may not
    assert "Resuming after epoch 2" in pyjlchar("train", "--config", config, "--epochs", 3, "--resume",
                                                "--log-every", 1, "--keep-best", 2).stderr


def test_ctrl_c_saves_and_resume_picks_up(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 3)
    config = write_config(tmp_path, corpus, epochs=3)
    proc = subprocess.Popen([sys.executable, "-m", "pyjlchar", "train", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # wait until training is under way
        seen.append(line)
        if line.startswith("Speed:"):
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "Interrupted in epoch 1" in rest and "--resume" in rest, rest
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert meta["partial"]["epoch"] == 1 and meta["partial"]["batches_done"] > 0
    resumed = pyjlchar("train", "--config", config, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming epoch 1 after batch" in resumed.stderr
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert "partial" not in meta and [h["epoch"] for h in meta["history"]] == [1, 2, 3]


@pytest.mark.parametrize("content, phrase", [
    (b"", "empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    (b"caf\xe9 au lait", "UTF-8"),
])
def test_bad_corpus_is_one_clear_sentence(tmp_path, content, phrase):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    assert_clean_failure(pyjlchar("train", "--config", write_config(tmp_path, corpus)), phrase)


def test_corpus_smaller_than_a_batch(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("tiny text\n" * 3)
    assert_clean_failure(pyjlchar("train", "--config", write_config(tmp_path, corpus)), "one batch needs")


def test_bad_config_values_and_keys(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    config.write_text(config.read_text() + "epoch = 3\n")
    assert_clean_failure(pyjlchar("train", "--config", config), "epoch", "epochs")
    config = write_config(tmp_path, corpus, batch_size=0)
    assert_clean_failure(pyjlchar("train", "--config", config), "batch_size")
    config = write_config(tmp_path, corpus, seq_len=-3)
    assert_clean_failure(pyjlchar("train", "--config", config), "seq_len")
    config.write_text(config.read_text().replace("[data]", "[data]\ntrain_ratio = 1.5"))
    assert_clean_failure(pyjlchar("train", "--config", config), "train_ratio")


def test_gpu_on_a_cpu_build_names_the_cuda_wheels(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--context", "gpu")
    if "CUDA" in pyjlchar("doctor", "--json").stdout.split('"features_disabled"')[0]:
        pytest.skip("this libmxnet has CUDA")
    assert_clean_failure(out, "CUDA", "mxnet-cu")
    assert not (tmp_path / "ck").exists()


def test_broken_checkpoints_are_one_clear_sentence(trained, tmp_path):
    folder, _, _ = trained
    ck = folder / "ck"
    params = (ck / "tiny-0001.params").read_bytes()
    missing = pyjlchar("sample", "--checkpoint", tmp_path / "none-0001.params")
    assert_clean_failure(missing, "does not exist")
    for name, data, phrase in (("truncated", params[: len(params) // 2], "corrupt or truncated"),
                               ("corrupt", b"\x00" * 64 + params[64:], "corrupt or truncated")):
        broken = tmp_path / f"{name}-0001.params"
        broken.write_bytes(data)
        (tmp_path / f"{name}-meta.json").write_bytes((ck / "tiny-meta.json").read_bytes())
        assert_clean_failure(pyjlchar("sample", "--checkpoint", broken), phrase)
    # a meta file describing another architecture than the weights
    meta = json.loads((ck / "tiny-meta.json").read_text())
    meta["model"]["hidden"] = 32
    (tmp_path / "other-0001.params").write_bytes(params)
    (tmp_path / "other-meta.json").write_text(json.dumps(meta))
    assert_clean_failure(pyjlchar("sample", "--checkpoint", tmp_path / "other-0001.params"),
                         "different architecture")
    assert (ck / "tiny-0001.params").read_bytes() == params  # nothing already written was touched


def test_prime_with_unknown_characters_lists_them(trained):
    folder, _, _ = trained
    out = pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny", "--prime", "Zebra✓")
    assert_clean_failure(out, '"✓"', '"Z"')


def test_flags_and_set_reach_the_run(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--name", "flagged", "--hidden", 12,
                   "--layers", 2, "--embed", 6, "--dropout", 0.1, "--optimizer", "sgd", "--learning-rate", 0.05,
                   "--set", "model.graph=unrolled", "--set", "train.grad_clip=5", "--set", "train.seed=3",
                   "--seed", 4, "--cell", "lstm")
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "ck" / "flagged-meta.json").read_text())
    assert {k: meta["model"][k] for k in ("layers", "hidden", "embed", "dropout")} == {
        "layers": 2, "hidden": 12, "embed": 6, "dropout": pytest.approx(0.1)}
    assert (meta["model"]["cell"], meta["model"]["graph"]) == ("lstm", "unrolled")
    assert meta["history"][0]["graph"] == "unrolled"
    train = meta["train"]
    assert (train["optimizer"], train["learning_rate"], train["grad_clip"]) == ("sgd", pytest.approx(0.05), 5.0)
    assert train["seed"] == 4   # a flag wins over --set


@pytest.mark.parametrize("args, phrases", [
    (["--learning-rate", -1], ["command line: 'learning_rate' in [train] must be a number above 0 and at most "
                               "3.4e38, not -1.0"]),
    (["--hidden", 0], ["'hidden' in [model] must be an integer from 1 to 1048576, not 0"]),
    (["--name", "a b"], ["'name' in [model] must be made of letters"]),
    (["--set", "run.epoch=3"], ["--set run.epoch=3: unknown key 'epoch' in [run] (did you mean 'epochs'?)"]),
    (["--set", "train.epochs=3"], ["unknown key 'epochs' in [train] ('epochs' is in [run]: move it there)"]),
    (["--set", "model.cell=fused"], ["'cell' in [model] must be one of \"lstm\", not \"fused\""]),
    (["--set", "train.learning_rate=fast"], ["'learning_rate' in [train] must be a finite number, not \"fast\"",
                                             "for example --set train.learning_rate=0.01"]),
    (["--set", "epochs=3"], ["--set epochs=3 is not SECTION.KEY=VALUE: write it as --set run.epochs=3"]),
])
def test_bad_flags_are_one_sentence(tmp_path, args, phrases):
    out = pyjlchar("train", "--checkpoint-dir", tmp_path / "ck", *args)
    assert_clean_failure(out, *phrases)
    assert "\n" not in out.stderr.strip()
    assert not (tmp_path / "ck").exists()


def test_train_help_teaches_set():
    text = " ".join(pyjlchar("train", "--help").stdout.split())   # as one line, however click wraps it
    assert "--set train.learning_rate=0.002" in text and "--set model.graph=unrolled" in text


def sample_args(folder, *args):
    return ("sample", "--checkpoint", folder / "ck" / "tiny", "--seed", 7, "--length", 40, "--num-samples", 1, *args)


def test_top_p_one_is_sampling_as_before_and_a_tiny_one_is_greedy(trained):
    folder, _, _ = trained
    plain = pyjlchar(*sample_args(folder, "--prime", "First"))
    assert plain.returncode == 0, plain.stderr
    assert pyjlchar(*sample_args(folder, "--prime", "First", "--top-p", 1)).stdout == plain.stdout
    nucleus = pyjlchar(*sample_args(folder, "--prime", "First", "--top-p", 1e-6))
    assert nucleus.stdout == pyjlchar(*sample_args(folder, "--prime", "First", "--temperature", 0)).stdout
    assert pyjlchar(*sample_args(folder, "--prime", "First", "--set", "sample.top_p=1e-6")).stdout == nucleus.stdout


@pytest.mark.parametrize("top_p", [0, 1.5, -0.1])
def test_top_p_out_of_range(trained, top_p):
    folder, _, _ = trained
    assert_clean_failure(pyjlchar(*sample_args(folder, "--top-p", top_p)),
                         "'top_p' in [sample] must be a number above 0 and at most 1")


def test_prime_from_a_file_or_stdin(trained, tmp_path):
    folder, _, _ = trained
    prime = "First Citizen:\nSpeak"
    (tmp_path / "prime.txt").write_text(prime)
    given = pyjlchar(*sample_args(folder, "--prime", prime))
    from_file = pyjlchar(*sample_args(folder, "--prime-file", tmp_path / "prime.txt"))
    from_stdin = subprocess.run([sys.executable, "-m", "pyjlchar", *map(str, sample_args(folder, "--prime", "-"))],
                                input=prime, capture_output=True, text=True, timeout=600)
    assert given.returncode == 0, given.stderr
    assert given.stdout.startswith(prime)
    assert from_file.stdout == from_stdin.stdout == given.stdout


def test_bad_prime_file_or_stdin_is_one_sentence(trained, tmp_path):
    folder, _, _ = trained
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("Fïrst".encode("latin-1"))
    (tmp_path / "ok.txt").write_text("First")
    for args, phrase in ((["--prime-file", tmp_path / "none.txt"], "prime file"),
                         (["--prime-file", tmp_path / "empty.txt"], "is empty"),
                         (["--prime-file", tmp_path / "latin1.txt"], "is not UTF-8 (bad byte at offset 1)"),
                         (["--prime-file", tmp_path], "is a directory"),
                         (["--prime-file", tmp_path / "ok.txt", "--prime", "First"], "keep one of them")):
        assert_clean_failure(pyjlchar(*sample_args(folder, *args)), phrase)
    for data, phrase in ((b"", "the prime text on stdin is empty"), (b"\xff", "on stdin is not UTF-8")):
        out = subprocess.run([sys.executable, "-m", "pyjlchar", *map(str, sample_args(folder, "--prime", "-"))],
                             input=data, capture_output=True, timeout=600)
        assert_clean_failure(subprocess.CompletedProcess(out.args, out.returncode, out.stdout.decode(),
                                                         out.stderr.decode()), phrase)


# ----- the redesign: threads, flags from the settings table, --debug ----------------------------

def test_train_says_its_threads_first(trained):
    _, _, out = trained
    line = first_line(out.stderr)
    assert THREADS_LINE.match(line), out.stderr[:2000]
    count = int(line.split("Threads: ")[1].split()[0])
    if "OMP_NUM_THREADS" not in os.environ:
        assert count == len(os.sched_getaffinity(0)) or "cgroup" in line   # one per core this process may use
        assert "OMP_NUM_THREADS overrides" in line


def test_omp_num_threads_sets_the_threads_and_a_bad_one_is_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    out = pyjlchar("train", "--config", config, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert first_line(out.stderr) == "Threads: 1 OpenMP thread (OMP_NUM_THREADS)"
    bad = pyjlchar("train", "--config", config, "--checkpoint-dir", tmp_path / "other",
                   env={**os.environ, "OMP_NUM_THREADS": "many"})
    assert_clean_failure(bad, "OMP_NUM_THREADS=many is not a number of threads from 1 to 4096: fix or unset it")
    assert "\n" not in bad.stderr.strip() and not (tmp_path / "other").exists()


def option(command, name: str):
    return next(p for p in command.params if p.name == name)


@pytest.mark.parametrize("command, required, keys", [
    (commands.train, [], [key for name in ("data", "model", "train", "run", "compute") for key in SECTIONS[name].keys]),
    (commands.sample, ["--checkpoint", "run/ptb"], ["graph", "context", *DEFAULTS["sample"]]),
    (commands.evaluate, ["--checkpoint", "run/ptb", "--text", "t.txt"], ["graph", "context"]),
    (commands.visualize, [], ["cell", "graph", "layers", "hidden", "embed", "dropout"]),
    (commands.bench, [], ["cell", "layers", "hidden", "embed", "seq_len", "batch_size", "context"]),
    (commands.info, [], ["train_ratio"]),
])
def test_setting_flags_come_from_the_table(command, required, keys):
    # Each flag is its setting's: its name, its choices, no default of its own (None: not given,
    # so that --config and --set decide), its help ending in its rule and the table's default.
    given = command.make_context(command.name, required).params
    for key in keys:
        setting = SECTIONS[SECTION_OF[key]].keys[key]
        flag = option(command, key)
        assert flag.opts == ["--" + key.replace("_", "-")], key
        assert given[key] in (None, ()), key
        if setting.choices:
            assert tuple(flag.type.choices) == setting.choices, key
        else:
            assert f"Allowed: {setting.rule}." in flag.help, key
        shown = DRAWING.get(key, setting.default) if command is commands.visualize else setting.default
        assert flag.help.startswith(f"[{SECTION_OF[key]}] {setting.help}"), key
        assert flag.help.endswith(f"Default: {toml_text(shown)}.") or \
            flag.help.endswith(f"Default: {toml_text(shown)}. Give it several times for several."), key


def test_graph_and_cell_flags_offer_the_tables_choices():
    assert tuple(option(commands.train, "graph").type.choices) == ("fused", "unrolled")
    assert tuple(option(commands.train, "cell").type.choices) == ("lstm",)
    for command in (commands.sample, commands.evaluate):
        assert tuple(option(command, "graph").type.choices) == SECTIONS["model"].keys["graph"].choices
        assert "cell" not in [p.name for p in command.params]   # a checkpoint's cell is its own


def test_help_shows_the_tables_defaults():
    text = " ".join(pyjlchar("train", "--help").stdout.split())
    assert '--graph [fused|unrolled] [model] How libmxnet runs it' in text
    assert 'runs in either. Default: "fused".' in text and "--cell [lstm] [model] The recurrence" in text
    assert "Allowed: an integer from 1 to 1048576. Default: 256." in text          # --hidden
    assert 'Default: "checkpoints".' in text and "--epochs INTEGER [run]" in text
    drawing = " ".join(pyjlchar("visualize", "--help").stdout.split())
    assert 'either. Default: "unrolled".' in drawing                                  # the original's picture
    assert "Stacked recurrent layers. Allowed: an integer from 1 to 1024. Default: 1." in drawing
    assert f"Default: {OPTIONS['steps'].default}." in drawing
    sampling = " ".join(pyjlchar("sample", "--help").stdout.split())
    assert 'either. Default: "fused".' in sampling and "Default: a random seed." in sampling


@pytest.mark.parametrize("args, message", [
    (["--cell", "fused"], "Invalid value for '--cell': 'fused' is not 'lstm'."),      # the old --cell fused
    (["--graph", "lstm"], "Invalid value for '--graph': 'lstm' is not one of 'fused', 'unrolled'."),
    (["--hidden", "many"], "'many' is not a valid integer"),
])
def test_the_old_cell_flag_is_refused_by_click(tmp_path, args, message):
    out = pyjlchar("train", "--checkpoint-dir", tmp_path / "ck", *args)
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "ck").exists()


class LoadSpy:
    """api.load as it is, also keeping the models it loaded (what Julia says each runs)."""

    def __init__(self):
        self.loaded = []
        self.real = api.load

    def __call__(self, *args, **kwargs):
        model = self.real(*args, **kwargs)
        self.loaded.append((kwargs, model.spec["graph"]))
        return model


@pytest.fixture
def load_spy(monkeypatch):
    spy = LoadSpy()
    monkeypatch.setattr(api, "load", spy)
    return spy


def invoke(*args) -> str:
    result = CliRunner().invoke(commands.cli, [*map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_sample_and_eval_take_their_graph_from_the_settings(trained, tmp_path, load_spy):
    folder, _, _ = trained
    prefix = folder / "ck" / "tiny"
    text = tmp_path / "t.txt"
    text.write_text("First Citizen:\nSpeak, speak.\n")
    unrolled = tmp_path / "unrolled.toml"
    unrolled.write_text('[model]\ngraph = "unrolled"\n')
    draw = ("sample", "--checkpoint", prefix, "--seed", 7, "--length", 30, "--num-samples", 1, "--prime", "First")
    fused_text = invoke(*draw)
    invoke(*draw, "--graph", "unrolled")
    invoke(*draw, "--config", unrolled)
    invoke(*draw, "--set", "model.graph=unrolled")
    invoke(*draw, "--config", unrolled, "--graph", "fused")           # the flag wins over the file
    fused = json.loads(invoke("eval", "--checkpoint", prefix, "--text", text, "--json"))
    eval_unrolled = json.loads(invoke("eval", "--checkpoint", prefix, "--text", text, "--json", "--graph", "unrolled"))
    assert [graph for _, graph in load_spy.loaded] == ["fused", "unrolled", "unrolled", "unrolled", "fused",
                                                       "fused", "unrolled"]
    assert load_spy.loaded[0][0] == {"graph": DEFAULTS["model"]["graph"], "context": DEFAULTS["compute"]["context"]}
    assert fused_text.startswith("First") and len(fused_text) == len("First") + 30 + 1
    assert eval_unrolled["nll"] == pytest.approx(fused["nll"], abs=1e-4)   # either graph runs the checkpoint


def test_a_user_error_has_a_backtrace_only_with_debug(tmp_path):
    plain = pyjlchar("train", "--checkpoint-dir", tmp_path / "ck", "--hidden", 0)
    assert_clean_failure(plain, "'hidden' in [model] must be an integer")
    assert "\n" not in plain.stderr.strip()
    debug = pyjlchar("--debug", "train", "--checkpoint-dir", tmp_path / "ck", "--hidden", 0)
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr and "pyjlchar.errors.UserError: command line: " \
        "'hidden' in [model] must be an integer" in debug.stderr, debug.stderr
    assert not (tmp_path / "ck").exists()


def test_a_user_error_from_julia_has_a_backtrace_only_with_debug(trained):
    folder, _, _ = trained
    args = ("sample", "--checkpoint", folder / "ck" / "tiny", "--prime", "Zebra✓")
    assert_clean_failure(pyjlchar(*args), '"✓"')
    debug = pyjlchar("--debug", *args)
    assert debug.returncode != 0 and "Traceback (most recent call last)" in debug.stderr, debug.stderr
    assert "pyjlchar.errors.UserError: " in debug.stderr and '"✓"' in debug.stderr
