# Installs what pyjlchar needs, only what is missing, and builds its Julia system image;
# sourced by scripts/main and scripts/test.
# Safe to run again: every step checks first and returns at once when there is nothing to do.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${PYJLCHAR_CACHE:-$ROOT/.cache}
MXNET_VERSION=1.9.1
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run '$*'; run it as root or install sudo"; fi
}

is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Julia >= 1.5: $JULIA, else `julia` on PATH, else Debian bullseye's 1.5.3 behind a low pin
# (bookworm has no julia; the pin keeps every other package on bookworm).
julia_ok() { "$1" --startup-file=no -e 'VERSION >= v"1.5" || exit(1)' >/dev/null 2>&1; }
find_julia() {
  if [ -n "${JULIA:-}" ]; then julia_ok "$JULIA" || die "JULIA=$JULIA is not a working Julia >= 1.5"; echo "$JULIA"; return; fi
  if command -v julia >/dev/null && julia_ok "$(command -v julia)"; then command -v julia; return; fi
  echo ""
}
install_julia() {
  is_debian || die "no Julia >= 1.5 found: install one from https://julialang.org/downloads and put it on PATH or set JULIA=/path/to/julia"
  local list=/etc/apt/sources.list.d/pyjlchar-bullseye.list pin=/etc/apt/preferences.d/pyjlchar-bullseye
  if [ ! -f "$list" ]; then
    say "adding Debian bullseye (pinned at priority 100) as the source of julia 1.5.3"
    echo 'deb http://deb.debian.org/debian bullseye main' | as_root tee "$list" >/dev/null
    printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' | as_root tee "$pin" >/dev/null
    apt_updated=0
  fi
  apt_install julia || die "could not install julia from bullseye (has it moved to archive.debian.org?); install Julia >= 1.5 by hand and set JULIA"
}

# Julia 1.5.3 crashes on bookworm's libunwind 1.6; bullseye's 1.3.2 goes in a private folder.
install_libunwind() {
  local dir=$CACHE/libunwind
  [ -e "$dir/libunwind.so.8" ] && return 0
  say "fetching bullseye's libunwind 1.3.2 into $dir (Julia 1.5 crashes with bookworm's)"
  local tmp; tmp=$(mktemp -d); chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -qq libunwind8=1.3.2-2 >/dev/null 2>&1 \
      || { as_root apt-get update -qq && apt-get download -qq libunwind8=1.3.2-2; }) \
    || die "could not download libunwind8 1.3.2-2 from bullseye"
  dpkg-deb -x "$tmp"/libunwind8_*.deb "$tmp/x"
  mkdir -p "$dir"
  cp -a "$tmp"/x/usr/lib/*/libunwind*.so.* "$dir/"
  rm -rf "$tmp"
}

JULIA_BIN=$(find_julia)
if [ -z "$JULIA_BIN" ]; then install_julia; JULIA_BIN=$(command -v julia); fi
if is_debian; then
  apt_install libgomp1 graphviz
  case "$("$JULIA_BIN" --startup-file=no -e 'print(VERSION)' 2>/dev/null)" in 1.5.*) install_libunwind;; esac
fi
export JULIA=$JULIA_BIN

# The virtual environment, with pyjlchar editable. The mxnet wheel goes in with --no-deps: it is
# used only for libmxnet.so, and its metadata pins numpy<2 and graphviz<0.9.
VENV=$ROOT/.venv
stamp=$VENV/.pyjlchar-installed
want=$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the virtual environment $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[test]"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "mxnet==$MXNET_VERSION"
  echo "$want" > "$stamp"
fi

# pyjlchar's Julia system image: PyJLChar compiled ahead of time, so that commands start in a
# second or two instead of compiling for ten (pyjlchar/sysimage.py). Built again only when what
# it bakes in changes (the Julia sources, Julia, libmxnet); linking it needs `ld` (binutils).
# PYJLCHAR_SYSIMAGE=off does without it.
if [ "${PYJLCHAR_SYSIMAGE:-auto}" != off ]; then
  if ! command -v ld >/dev/null && is_debian; then apt_install binutils; fi
  "$VENV/bin/python" -m pyjlchar.sysimage build \
    || say "no system image (see above): pyjlchar works without it, each command just compiles first"
fi
