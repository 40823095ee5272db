"""Immutable in depth: what result objects (``Comparison``, ``Frontier``, ``MonotoneCurve``) hold cannot be edited
through them, so a reader (a chart, a notebook cell) that edits what it was given changes nothing for the next.

* ``own_copy`` — a frame's copy that edits cannot carry back (lazy: pandas 3's copy-on-write); ``data.load`` hands
  each caller its dataset's frames this way.
* ``FrameField`` — a dataclass field whose DataFrame is handed out as ``own_copy`` on every read, so editing it
  never reaches the stored frame (the owner's own hot reads use ``stored``, without the copy).
* ``FrozenDict`` — a dict that refuses edits (and pickles, copies and serialises to JSON like a dict).
* ``readonly`` — a float array of one's own that numpy refuses to write to.
"""

from __future__ import annotations

import numpy as np


def own_copy(frame):
    """A copy of ``frame`` that edits cannot carry back to it: lazy under pandas' copy-on-write (always on from
    pandas 3): no data is copied until someone writes to it."""
    return frame.copy(deep=False)


class FrameField:
    """A dataclass field holding a DataFrame that every read returns as ``own_copy``; assigned once, at
    construction (works in frozen dataclasses: ``object.__setattr__`` goes through this descriptor)."""

    def __set_name__(self, owner, name: str) -> None:
        self.name, self.attr = name, f"_{name}_frame"  # see ``stored``

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError(self.name)  # no class-level default: the field is required
        return own_copy(obj.__dict__[self.attr])

    def __set__(self, obj, value) -> None:
        if self.attr in obj.__dict__:
            msg = f"cannot assign to field {self.name!r}: the object is immutable"
            raise AttributeError(msg)
        obj.__dict__[self.attr] = own_copy(value)  # not the caller's object: editing that changes nothing here


def stored(obj, name: str):
    """The frame a ``FrameField`` holds, not a copy: for the owning class's own reads, which must not edit it."""
    return obj.__dict__[f"_{name}_frame"]


class FrozenDict(dict):
    """A dict that cannot be changed after it is made; reads, ``==``, ``json.dumps``, pickling and copying work as
    for a dict (``dict(d)`` gives an editable copy)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        msg = "this mapping is part of an immutable result; copy it with dict(...) to edit"
        raise TypeError(msg)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))

    def __hash__(self):  # a dict is unhashable; keep it so (equal dicts of mutable values have no stable hash)
        raise TypeError("unhashable type: 'FrozenDict'")


def freeze(value):
    """``value`` with every dict made a ``FrozenDict`` and every list a tuple, in depth (JSON-like data)."""
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """The editable, JSON-shaped copy of ``freeze``'s result: dicts and lists again."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def readonly(values) -> np.ndarray:
    """A float array of one's own (never a view of the caller's) that refuses writes."""
    out = np.array(values, dtype=float)
    out.flags.writeable = False
    return out
