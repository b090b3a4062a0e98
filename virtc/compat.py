"""What Python 3.9 lacks, in one place: virtc runs on 3.9 to 3.13."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 10):
    from itertools import pairwise

    def zip_strict(*iterables: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """``zip(..., strict=True)``: the iterables must be of one length."""
        return zip(*iterables, strict=True)

    SLOTS: dict[str, bool] = {"slots": True}
    """``@dataclass(**SLOTS)``: slots where dataclasses can make them (3.10+)."""
else:  # pragma: no cover - Python 3.9
    from itertools import tee

    def pairwise(iterable: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        a, b = tee(iterable)
        next(b, None)
        return zip(a, b)

    def zip_strict(*iterables: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        iterators = [iter(it) for it in iterables]
        end = object()
        while True:
            items = tuple(next(it, end) for it in iterators)
            if all(item is end for item in items):
                return
            if any(item is end for item in items):
                raise ValueError("zip_strict: iterables of different lengths")
            yield items

    SLOTS = {}

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9, 3.10
        import tomli as tomllib
else:
    def __getattr__(name: str) -> Any:
        """``tomllib`` (``tomli`` before 3.11), imported on first use: a lint without a
        configuration file does not pay for it at start-up."""
        if name != "tomllib":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.9, 3.10
            import tomli as tomllib
        return tomllib

__all__ = ["SLOTS", "pairwise", "tomllib", "zip_strict"]
