"""What `pyjlchar corpus info` prints, from the summary Julia makes of an encoded corpus."""
from __future__ import annotations

# How many of the most and of the least frequent characters the report names.
SHOWN = 5


def report(summary: dict) -> dict:
    """Julia's summary with the character frequencies cut to the `distinct` count and the
    SHOWN most and least frequent (each [character, count])."""
    frequencies = summary["frequencies"]
    least = sorted(frequencies[-SHOWN:], key=lambda pair: pair[1])
    rest = {key: value for key, value in summary.items() if key != "frequencies"}
    return {**rest, "distinct": len(frequencies), "most_frequent": frequencies[:SHOWN], "least_frequent": least}


def _chars(pairs: list) -> str:
    return ", ".join(f"{char!r} {count:,}" for char, count in pairs)


def render(r: dict) -> str:
    """The report as a few lines."""
    files = r["files"]
    cache = r["cache"]
    seconds = cache["encode_seconds"]
    state = ("already encoded" if seconds is None else
             f"encoded now in {seconds:.1f} s ({r['bytes'] / 1e6 / max(seconds, 1e-9):.1f} MB/s)")
    return "\n".join([
        f"files: {len(files)}" + (f" ({files[0]})" if len(files) == 1 else f" ({files[0]} ... {files[-1]})"),
        f"characters: {r['characters']:,}",
        f"bytes: {r['bytes']:,}",
        f"lines: {r['lines']:,}",
        f"distinct characters: {r['distinct']:,}",
        f"  most frequent: {_chars(r['most_frequent'])}",
        f"  least frequent: {_chars(r['least_frequent'])}",
        f"train / validation at train_ratio {r['train_ratio']:g}: {r['train_characters']:,} / "
        f"{r['validation_characters']:,} characters",
        f"cache: {cache['folder']} ({cache['id_type']} ids, {cache['bytes'] / 1e6:.1f} MB), {state}",
    ])
