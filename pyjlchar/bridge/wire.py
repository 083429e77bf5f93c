"""The bridge's wire format: how a call and its values travel to Julia (julia/src/bridge.jl).

A request is JSON: the function's dotted name, its arguments and keywords, the ids of arrays
Python no longer needs, and whether errors should carry Julia's backtrace. Numbers, strings,
booleans, None, lists and str-keyed dicts travel as JSON; numpy arrays travel by pointer in a
separate table, and stand in the JSON as {"$array": index}.
"""
from __future__ import annotations

import json
from pathlib import PurePath

import numpy as np

# bridge.jl's DTYPES, in its order.
DTYPES = [np.dtype(t) for t in ("float32", "float64", "int32", "int64", "uint8")]


def encode_request(fn: str, args, kwargs: dict, arrays: list, free=(), backtrace: bool = False) -> bytes:
    """The JSON request bridge.jl's entry point takes; numpy arrays go to `arrays`, by pointer."""
    return json.dumps({"fn": fn, "args": _encode(list(args), arrays), "kwargs": _encode(kwargs, arrays),
                       "free": list(free), "backtrace": backtrace}).encode()


def _encode(value, arrays: list):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, np.ndarray):
        if value.dtype not in DTYPES:
            raise TypeError(f"arrays of {value.dtype} cannot go to Julia; use one of "
                            + ", ".join(map(str, DTYPES)))
        if value.ndim == 0:
            return value.item()
        if value.ndim > 8:
            raise TypeError("arrays of more than 8 dimensions cannot go to Julia")
        arrays.append(np.ascontiguousarray(value))  # a copy only if it was not C-contiguous
        return {"$array": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dicts sent to Julia need str keys")
        return {k: _encode(v, arrays) for k, v in value.items()}
    raise TypeError(f"cannot send {type(value).__name__} to Julia")


def decode(value, arrays: list):
    """A reply's value, arrays put back in place of their {"$array": index}."""
    if isinstance(value, list):
        return [decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$array" in value:
            return arrays[value["$array"]]
        return {k: decode(v, arrays) for k, v in value.items()}
    return value
