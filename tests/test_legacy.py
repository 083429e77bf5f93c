"""Files written before the settings redesign (format 1, `cell` naming the graph) still load,
sample, evaluate and resume with the numbers that version gave: tests/fixtures/legacy holds a
tiny unrolled run ("lstm") and a fused one, made with it, and expected.json what it printed."""
import json
import shutil
from pathlib import Path

import pytest

import pyjlchar as pj

FIXTURES = Path(__file__).parent / "fixtures" / "legacy"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
OLD_CELL_IS_NEW_GRAPH = {"lstm": "unrolled", "fused": "fused"}


@pytest.fixture(params=["lstm", "fused"])
def legacy_run(request, tmp_path):
    """A copy of one of the old runs (resuming writes into its folder) and what it gave."""
    shutil.copytree(FIXTURES / request.param, tmp_path / request.param)
    shutil.copy(FIXTURES / "corpus.txt", tmp_path)
    return tmp_path / request.param / "legacy", EXPECTED["runs"][request.param], request.param


@pytest.mark.parametrize("old_graph", ["lstm", "fused"])
def test_an_old_checkpoint_samples_and_scores_as_before_in_either_graph(legacy_run, old_graph):
    prefix, expected, _ = legacy_run
    drawn, scored = EXPECTED["sample"], EXPECTED["eval"]
    with pj.load(prefix, graph=OLD_CELL_IS_NEW_GRAPH[old_graph]) as model:
        assert model.spec["cell"] == "lstm"
        texts = model.sample(drawn["length"], prime=drawn["prime"], num_samples=drawn["num_samples"],
                             seed=drawn["seed"])
        assert texts == expected[f"samples_{old_graph}"]
        nll = model.evaluate(FIXTURES / scored["text"], streams=scored["streams"])["nll"]
        assert nll == pytest.approx(expected[f"eval_nll_{old_graph}"], rel=1e-6)


def test_an_old_run_resumes_to_the_same_next_epoch(legacy_run, monkeypatch):
    prefix, expected, old_cell = legacy_run
    monkeypatch.chdir(prefix.parent.parent)   # the run was made there, with corpus = "corpus.txt"
    meta = json.loads((prefix.parent / "legacy-meta.json").read_text())
    old = meta["train"]
    settings = {
        "data": {"corpus": old["corpus"], "train_ratio": old["train_ratio"]},
        "model": {**{k: meta["model"][k] for k in ("name", "layers", "hidden", "embed", "dropout")},
                  "graph": OLD_CELL_IS_NEW_GRAPH[old_cell]},
        "train": {k: v for k, v in old.items() if k not in ("corpus", "train_ratio", "epochs")},
        "run": {"epochs": 3, "checkpoint_dir": str(prefix.parent)},
    }
    run = pj.train(settings, resume=True, on_progress=lambda event: None)
    assert [h["epoch"] for h in run.history] == [1, 2, 3]
    assert run.history[-1]["train_nll"] == pytest.approx(expected["resumed_epoch_3"]["train_nll"], rel=1e-6)
    assert run.history[-1]["val_nll"] == pytest.approx(expected["resumed_epoch_3"]["val_nll"], rel=1e-6)
    rewritten = json.loads((prefix.parent / "legacy-meta.json").read_text())
    assert rewritten["model"]["cell"] == "lstm" and rewritten["model"]["graph"] == OLD_CELL_IS_NEW_GRAPH[old_cell]
