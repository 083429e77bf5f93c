"""The API in a real Jupyter kernel: docs/quickstart.ipynb runs headless, and the kernel's
interrupt button stops a training cell the way Ctrl-C stops `pyjlchar train`."""
import json
import os
import queue
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "docs" / "quickstart.ipynb"


def kernel_env() -> dict:
    """This checkout's pyjlchar in the kernel, whichever is installed."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def text_of(cell) -> str:
    """What a cell printed and showed as text."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def test_the_quickstart_notebook_runs_and_shows_its_results(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=kernel_env())
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    by_source = {cell.source.splitlines()[0]: cell for cell in code}

    train = next(cell for first, cell in by_source.items() if first.startswith("run = pj.train("))
    assert "Saved checkpoint to" in text_of(train) and "Run(prefix=" in text_of(train)
    widget = "application/vnd.jupyter.widget-view+json"
    bars = [o.data["text/plain"] for o in train.outputs if widget in o.get("data", {})]
    assert [bar.split(":")[0] for bar in bars if bar.startswith("epoch")] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert text_of(by_source["model = pj.load(run.prefix)"]).startswith("KING:")
    samples = text_of(by_source["for text in model.sample(40, prime=\"QUEEN:\", num_samples=3, seed=2):"])
    assert samples.count("'QUEEN:") == 3
    stream = next(cell for first, cell in by_source.items() if first.startswith("# A stream draws"))
    assert len(text_of(stream)) == 60
    scores = by_source["scores = model.evaluate(text=\"KING:\\nWhat news, my lord?\\n\")"]
    assert "'nll'" in text_of(scores) and "'bits_per_char'" in text_of(scores)
    graph = next(cell for first, cell in by_source.items() if first.startswith("pj.graph("))
    assert any("<svg" in o.get("data", {}).get("image/svg+xml", "") for o in graph.outputs)
    history = by_source["model.history"]
    assert any(o.get("data", {}).get("image/png") for o in history.outputs)


class Kernel:
    """A kernel driven through jupyter_client, as a notebook's front end drives it."""

    def __init__(self, cwd: Path):
        self.manager = jupyter_client.KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=kernel_env(), cwd=str(cwd))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def execute(self, code: str, on_output=None, timeout: float = 300) -> dict:
        """Runs `code`; returns its execute_reply's content. `on_output(text)` sees its streams."""
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream" and on_output:
                on_output(message["content"]["text"])
            if (message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "status"
                    and message["content"]["execution_state"] == "idle"):
                return self.client.get_shell_msg(timeout=30)["content"]
        raise TimeoutError(code)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def test_the_interrupt_button_saves_the_epoch_and_the_kernel_goes_on(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("KING:\nWhat news, my lord? Speak, and speak quickly.\n\n" * 600)
    kernel = Kernel(tmp_path)
    try:
        assert kernel.execute("import pyjlchar as pj")["status"] == "ok"
        interrupted = []

        def interrupt_once_training(text):
            if "Speed:" in text and not interrupted:  # training is under way
                kernel.manager.interrupt_kernel()
                interrupted.append(time.monotonic())

        reply = kernel.execute(f"pj.train(corpus={str(corpus)!r}, checkpoint_dir='ck', name='tiny', layers=1, "
                               "hidden=16, embed=8, seq_len=8, batch_size=4, epochs=50)",
                               on_output=interrupt_once_training)
        assert interrupted, "training never got under way"
        assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
        assert time.monotonic() - interrupted[0] < 30
        meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
        assert meta["partial"]["epoch"] == 1 and meta["partial"]["batches_done"] > 0
        after = kernel.execute("print(pj.load('ck/tiny').sample(10, prime='KING', seed=1)); print(1 + 1)",
                               on_output=interrupted.append)
        assert after["status"] == "ok"
        assert "KING" in "".join(str(x) for x in interrupted[1:]) and "2\n" in interrupted[-1]
    finally:
        kernel.close()
