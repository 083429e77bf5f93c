"""`pyjlchar plot` and pyjlchar.show.plot.curves on metrics logs and meta files written here."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pyjlchar.show import plot
from pyjlchar.errors import UserError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def record(step: int, **fields) -> dict:
    return {"epoch": 1 + (step - 1) // 10, "batch": 1 + (step - 1) % 10, "step": step, "chars": 1024 * step,
            "time": 1.7e9 + step, **fields}


def train_record(step: int, nll: float) -> dict:
    return record(step, train_nll=nll, lr=0.01, chars_per_s=5000.0)


def write_log(prefix, records, tail: str = "") -> None:
    """The metrics log of the run at `prefix`; `tail` is a line still being written."""
    (prefix.parent / f"{prefix.name}-log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + tail)


def a_run(folder, name: str = "ptb", steps: int = 30, scale: float = 3.0):
    prefix = folder / name
    records = []
    for step in range(1, steps + 1):
        records.append(train_record(step, scale / (1 + 0.05 * step)))
        if step % 10 == 0:
            records.append(record(step, val_nll=scale / (1 + 0.04 * step)))
    write_log(prefix, records)
    return prefix


def pyjlchar(*args):
    return subprocess.run([sys.executable, "-m", "pyjlchar", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def lines_of(figure) -> dict:
    """Each line's label and its points."""
    return {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in figure.axes[0].lines}


def test_png_of_several_runs_and_where_it_went(tmp_path):
    runs = [a_run(tmp_path, "small"), a_run(tmp_path, "big", steps=20, scale=2.5)]
    out = pyjlchar("plot", *runs, "-o", tmp_path / "curves.png")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "curves.png").read_bytes().startswith(PNG_MAGIC)
    assert out.stdout == "" and str(tmp_path / "curves.png") in out.stderr


def test_svg_is_an_svg_document_with_a_legend_entry_per_run_and_curve(tmp_path):
    runs = [a_run(tmp_path, "small"), a_run(tmp_path, "big")]
    out = pyjlchar("plot", *runs, "-o", tmp_path / "curves.svg")
    assert out.returncode == 0, out.stderr
    root = ET.parse(tmp_path / "curves.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert set(lines_of(plot.curves([str(r) for r in runs]))) == {
        f"{r} {curve}" for r in runs for curve in ("train", "validation")}


def test_pdf(tmp_path):
    assert pyjlchar("plot", a_run(tmp_path), "-o", tmp_path / "c.pdf").returncode == 0
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")


def test_curves_against_characters_seen(tmp_path):
    figure = plot.curves([str(a_run(tmp_path))])
    lines = lines_of(figure)
    train, val = lines[f"{tmp_path / 'ptb'} train"], lines[f"{tmp_path / 'ptb'} validation"]
    assert [x for x, _ in train] == [1024 * s for s in range(1, 31)]
    assert [x for x, _ in val] == [10240, 20480, 30720]
    assert val[0][1] == pytest.approx(3.0 / 1.4)
    assert figure.axes[0].get_xlabel() == "characters seen"


def test_a_resumed_run_replaces_the_steps_it_took_again(tmp_path):
    prefix = tmp_path / "ptb"
    first = [train_record(s, 3.0) for s in range(1, 16)] + [record(10, val_nll=3.0), record(15, val_nll=2.9)]
    again = [train_record(s, 2.0) for s in range(11, 21)] + [record(20, val_nll=1.5)]   # resumed after step 10
    write_log(prefix, first + again)
    lines = lines_of(plot.curves([str(prefix)]))
    train = lines[f"{prefix} train"]
    assert [x for x, _ in train] == [1024 * s for s in range(1, 21)]
    assert [y for _, y in train] == [3.0] * 10 + [2.0] * 10
    assert lines[f"{prefix} validation"] == [(10240, 3.0), (20480, 1.5)]


def test_a_line_still_being_written_is_left_out(tmp_path):
    prefix = tmp_path / "ptb"
    write_log(prefix, [train_record(1, 3.0), train_record(2, 2.9)], tail='{"epoch": 1, "batch": 3, "st')
    assert len(lines_of(plot.curves([str(prefix)]))[f"{prefix} train"]) == 2


def test_a_run_without_a_log_is_drawn_by_epoch_from_its_meta(tmp_path):
    history = [{"epoch": 1, "train_nll": 3.0, "val_nll": 2.8, "seconds": 1.0, "graph": "unrolled"},
               {"epoch": 2, "train_nll": 2.5, "val_nll": None, "seconds": 1.0, "graph": "fused"}]
    (tmp_path / "old-meta.json").write_text(json.dumps({"history": history}))
    logged = a_run(tmp_path, "new")
    (tmp_path / "new-meta.json").write_text(json.dumps({"history": history[:1]}))
    figure = plot.curves([str(tmp_path / "old"), str(logged)])
    lines = lines_of(figure)
    assert lines[f"{tmp_path / 'old'} train"] == [(1, 3.0), (2, 2.5)]
    assert lines[f"{tmp_path / 'old'} validation"] == [(1, 2.8)]
    assert lines[f"{logged} train"] == [(1, 3.0)]
    assert figure.axes[0].get_xlabel().startswith("epoch")


def test_a_runs_log_or_meta_file_names_it(tmp_path):
    prefix = a_run(tmp_path)
    assert set(lines_of(plot.curves([str(prefix) + "-log.jsonl"]))) == {f"{prefix} train", f"{prefix} validation"}


def clean_failure(out, *phrases):
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    message = out.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message


def test_errors_are_one_sentence(tmp_path):
    run = a_run(tmp_path)
    clean_failure(pyjlchar("plot", run, "-o", tmp_path / "c.jpg"), "end its name in .svg, .png, .pdf")
    clean_failure(pyjlchar("plot", tmp_path / "nope", "-o", tmp_path / "c.png"),
                  f"there is no run at {tmp_path / 'nope'}", "checkpoint prefix")
    clean_failure(pyjlchar("plot", run, "-o", tmp_path / "missing" / "c.png"), "cannot write")
    assert not (tmp_path / "c.jpg").exists()


@pytest.mark.parametrize("content, phrase", [
    ("", "is empty"),
    ("\n\n", "is empty"),
    ('{"step": 1, "chars": 10, "tra', "is empty"),   # only a line still being written
    ('{"step": 1, "chars": 10, "train_nll": 3.0}\nnot json\n', "damaged at line 2"),
    ('{"step": 1, "chars": 10}\n', "damaged at line 1"),
    ('{"step": 1, "chars": 10, "train_nll": "high"}\n', "damaged at line 1"),
    ('[1, 2]\n', "damaged at line 1"),
])
def test_empty_or_damaged_log(tmp_path, content, phrase):
    (tmp_path / "ptb-log.jsonl").write_text(content)
    with pytest.raises(UserError, match=phrase) as caught:
        plot.curves([str(tmp_path / "ptb")])
    assert "\n" not in str(caught.value)


def test_a_meta_file_that_is_not_a_runs(tmp_path):
    (tmp_path / "ptb-meta.json").write_text('{"vocab": "ab"}')
    with pytest.raises(UserError, match="cannot be read as a run's meta file"):
        plot.curves([str(tmp_path / "ptb")])
    (tmp_path / "ptb-meta.json").write_text('{"history": []}')
    with pytest.raises(UserError, match="has saved no epoch yet"):
        plot.curves([str(tmp_path / "ptb")])


def test_runs_made_before_the_redesign_still_draw(tmp_path):
    # tests/fixtures/legacy: an unrolled ("lstm" then) and a fused run written by the version before.
    legacy = [str(Path(__file__).parent / "fixtures" / "legacy" / cell / "legacy") for cell in ("lstm", "fused")]
    lines = lines_of(plot.curves(legacy))
    assert set(lines) == {f"{prefix} {curve}" for prefix in legacy for curve in ("train", "validation")}
    assert all(len(points) >= 2 for points in lines.values())
    out = pyjlchar("plot", *legacy, "-o", tmp_path / "legacy.png")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "legacy.png").read_bytes().startswith(PNG_MAGIC)
