"""The bridge: Julia started inside this process and called from any thread.

- paths.py: where things are (the checkout or wheel, the cache, Julia, libmxnet) and the
  environment Julia needs; threads.py: libmxnet's OpenMP threads; image.py: the system image
  Julia starts on; host.py: what a process hosting Julia and libmxnet must do differently;
- start.py: starting Julia (embedded with ctypes, or juliacall); wire.py: how values travel;
- calls.py: running calls on Julia's thread, their events and Ctrl-C.

`python -m pyjlchar.bridge [julia args...]` (the scripts/julia wrapper) runs Julia as a
program with the same project, depot, libraries and image.
"""
__all__ = ["Julia", "get", "release", "run", "set_debug", "started", "starting"]


def __getattr__(name: str):
    # calls.py (numpy, ctypes) is imported on first use, so that `import pyjlchar` can set up
    # host.py's signal handlers without it.
    if name in __all__:
        from . import calls

        return getattr(calls, name)
    raise AttributeError(f"module 'pyjlchar.bridge' has no attribute {name!r}")
