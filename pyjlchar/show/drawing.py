"""Graphviz drawings of the char-lstm, in the look of MXNet.jl's `to_graphviz`.

Julia builds the graph (commands.graph's call) and infers the shape of every node output;
this module turns libmxnet's JSON into DOT. The DOT depends only on the arguments: nodes and
edges follow the JSON's node order, and parameters are sorted by name.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import graphviz

from ..errors import UserError

RENDERED_FORMATS = ("svg", "png", "pdf")

# (fill, border) per kind of node: the original's palette.
COLORS = {
    "FullyConnected": ("#fb8072", "#7e0a00"),
    "Activation": ("#ffffb3", "#7e7e00"),
    "output": ("#b3de69", "#4b6d11"),  # *Output ops and BlockGrad
    "op": ("#fccde5", "#8a0c55"),  # any other op
    "output variable": ("#8dd3c7", "#245b51"),
    "weight": ("#bebada", "#433b80"),  # drawn with --show-params only
    "state": ("#80b1d3", "#1a4055"),  # drawn with --show-params only
}
EDGE_COLOR = "#737373"


def default_title(cell: str, layers: int, steps: int) -> str:
    return f"char-{cell}: {_count(layers, 'layer')}, {_count(steps, 'step')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def digraph(graph: dict, *, title: str, show_params: bool = False) -> graphviz.Digraph:
    """The drawing of the graph Julia returns ("json", "shapes", "inputs"); `.source` is its DOT.
    Ops are boxes labelled name, op and parameters; edges run
    from consumer back to producer (so data flows upwards), labelled with the producer's shape.
    Variables are left out, except the graph's outputs and, with `show_params`, the weights and
    initial states."""
    symbol = json.loads(graph["json"])
    nodes = symbol["nodes"]
    heads = {head[0] for head in symbol["heads"]}
    dot = graphviz.Digraph(
        name=title,
        graph_attr={"label": title, "labelloc": "t", "fontsize": "14"},
        node_attr={"shape": "box", "style": "rounded,filled", "penwidth": "2", "fontsize": "10"},
        edge_attr={"fontsize": "10"})

    drawn = set()
    for index, node in enumerate(nodes):
        kind = _kind(node, graph["inputs"], is_head=index in heads)
        if kind is None or (kind in ("weight", "state") and not show_params):
            continue
        fill, border = COLORS[kind]
        dot.node(node["name"], label=_label(node), fillcolor=fill, color=border)
        drawn.add(index)

    for node in nodes:
        if node["op"] == "null":
            continue
        for source, output, _version in node["inputs"]:
            if source in drawn:
                producer = nodes[source]["name"]
                dot.edge(node["name"], producer, dir="back", arrowtail="open", color=EDGE_COLOR,
                         label=_shape_label(graph["shapes"][producer], output))
    return dot


def _kind(node: dict, input_roles: dict, *, is_head: bool) -> str | None:
    """The node's colour key; None for data and label variables, which are never drawn."""
    op = node["op"]
    if op == "null":
        if is_head:
            return "output variable"
        role = input_roles.get(node["name"], "weight")  # every other variable is learned
        return role if role in ("weight", "state") else None
    if op in ("FullyConnected", "Activation"):
        return op
    if op.endswith("Output") or op == "BlockGrad":
        return "output"
    return "op"


def _label(node: dict) -> str:
    if node["op"] == "null":
        return node["name"]
    # Keys such as __shape__ are annotations, not the op's parameters.
    params = sorted((key, value) for key, value in node.get("attrs", {}).items()
                    if not key.startswith("__"))
    return "\\n".join([node["name"], node["op"], *(f"{key}={value}" for key, value in params)])


def _shape_label(output_shapes: list, output: int) -> str:
    shape = "x".join(str(size) for size in output_shapes[output])
    # Name the output where there are several, e.g. which of SliceChannel's gates.
    return f"out{output}: {shape}" if len(output_shapes) > 1 else shape


def output_format(fmt: str | None, output: str | None) -> str:
    """The format to write: `fmt`, else the one the output file's suffix names, else DOT."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lstrip(".").lower() if output else ""
    return suffix if suffix in RENDERED_FORMATS else "dot"


def require_dot(fmt: str) -> None:
    """Fails, naming the fix, when Graphviz's `dot` (needed to draw `fmt`) is not on PATH."""
    if shutil.which("dot") is None:
        raise UserError(f"--format {fmt} needs Graphviz's `dot` program, which is not on PATH: "
                        "install Graphviz (e.g. apt-get install graphviz), or leave out --format "
                        "to print DOT")


def render(dot_source: str, fmt: str) -> bytes:
    """The drawing in `fmt` (svg, png or pdf), made by Graphviz's `dot` program."""
    try:
        return graphviz.Source(dot_source).pipe(format=fmt)
    except graphviz.CalledProcessError as e:
        raise UserError(f"Graphviz's `dot` failed to draw {fmt}: "
                        f"{e.stderr.decode(errors='replace').strip()}; check the Graphviz installation "
                        "with `dot -V`") from None
