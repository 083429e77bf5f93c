"""Cold-start times of pyjlchar's commands with and without its Julia system image.

    .venv/bin/python bench/cold_start.py [--repeat N]

Each figure is measured in fresh processes by pyjlchar.coldstart.cold_start_times: seconds to
the first training batch (train), to the first sampled character on stdout (sample), and for
the whole of `visualize --layers 1 --steps 2`. The two settings take turns, so that a busy
machine slows both alike. Builds the image first when it is missing (several minutes).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from pyjlchar.bridge import image, paths
from pyjlchar.ops.coldstart import cold_start_times
from pyjlchar.ops.image_build import build

SETTINGS = {"off": "Julia's own image", "auto": "pyjlchar's image"}
COMMANDS = ("sample", "train", "visualize")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    args = parser.parse_args()
    os.environ.pop("PYJLCHAR_SYSIMAGE", None)
    built = build()
    meta = image.status(paths.julia_info())
    print(f"image: {built} ({meta['size_bytes'] / 2**20:.0f} MB, built in {meta['build_seconds']:.0f} s)")
    runs: dict[str, list[dict]] = {setting: [] for setting in SETTINGS}
    with tempfile.TemporaryDirectory() as work:
        for i in range(args.repeat):
            for setting in SETTINGS:
                os.environ["PYJLCHAR_SYSIMAGE"] = setting
                times = cold_start_times(Path(work))
                runs[setting].append(times)
                print(f"run {i + 1} {SETTINGS[setting]:>18}: "
                      + "  ".join(f"{c} {times[c]:5.2f} s" for c in COMMANDS), flush=True)
    print(f"\nmedian of {args.repeat} (seconds)  " + "  ".join(f"{c:>9}" for c in COMMANDS))
    for setting, label in SETTINGS.items():
        medians = [statistics.median(t[c] for t in runs[setting]) for c in COMMANDS]
        print(f"{label:>26}  " + "  ".join(f"{m:9.2f}" for m in medians))


if __name__ == "__main__":
    main()
