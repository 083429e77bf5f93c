"""The fused cell from the command line: training, and checkpoints that sample, evaluate and
resume with either cell."""
import json
import shutil

from test_charlstm_cli import CORPUS_TEXT, pyjlchar, write_config


def test_fused_training_and_either_cell_reads_the_checkpoint(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, epochs=1)
    out = pyjlchar("train", "--config", config, "--cell", "fused")
    assert out.returncode == 0, out.stderr
    assert "fused cell" in out.stderr
    ck = tmp_path / "ck"
    meta = json.loads((ck / "tiny-meta.json").read_text())
    assert meta["model"]["cell"] == "fused"
    assert meta["history"][0]["val_nll"] < 3.0

    samples = {cell: pyjlchar("sample", "--checkpoint", ck / "tiny", "--cell", cell, "--temperature", 0,
                              "--length", 60, "--num-samples", 2, "--prime", "First")
               for cell in ("lstm", "fused")}
    assert samples["lstm"].returncode == 0, samples["lstm"].stderr
    assert samples["lstm"].stdout == samples["fused"].stdout

    scores = {cell: pyjlchar("eval", "--checkpoint", ck / "tiny", "--text", corpus, "--json", "--cell", cell)
              for cell in ("lstm", "fused")}
    nll = {cell: json.loads(out.stdout)["nll"] for cell, out in scores.items()}
    assert abs(nll["lstm"] - nll["fused"]) < 1e-4

    # Resuming converts the run, weights and optimizer state, to the cell asked for, and back.
    unrolled = tmp_path / "unrolled"
    shutil.copytree(ck, unrolled)
    out = pyjlchar("train", "--config", config, "--epochs", 2, "--resume", "--cell", "lstm",
                   "--checkpoint-dir", unrolled)
    assert out.returncode == 0, out.stderr
    assert "Converting the run from the fused cell to the lstm cell" in out.stderr
    meta = json.loads((unrolled / "tiny-meta.json").read_text())
    assert meta["model"]["cell"] == "lstm" and meta["epoch"] == 2
    saved = (unrolled / "tiny-0002.params").read_bytes()
    assert b"tiny_l1_i2h_weight" in saved and b"tiny_lstm_parameters" not in saved

    out = pyjlchar("train", "--config", config, "--epochs", 2, "--resume", "--cell", "fused")
    assert out.returncode == 0, out.stderr
    resumed = json.loads((ck / "tiny-meta.json").read_text())
    # The same weights and optimizer state, whichever cell took epoch 2: the same NLL.
    assert abs(resumed["history"][1]["train_nll"] - meta["history"][1]["train_nll"]) < 1e-3
