# Installs what pyjlchar needs, only what is missing; sourced by scripts/main and scripts/test.
# The virtual environment .venv with pyjlchar (editable) and its test tools (the `test` extra:
# pytest, and Jupyter's nbclient and ipykernel for the notebook tests), then
# `pyjlchar setup` for everything else: Julia, libgomp1 and Graphviz, libmxnet, the libunwind
# Julia 1.5 needs, and pyjlchar's Julia system image (pyjlchar/ops/install.py). Safe to run again:
# every step checks first and returns at once when there is nothing to do.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

stamp=$VENV/.pyjlchar-installed
want=$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the virtual environment $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[test]"
  echo "$want" > "$stamp"
fi
"$VENV/bin/pyjlchar" setup
