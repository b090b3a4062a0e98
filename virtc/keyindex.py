"""Find a key's first entry, and every repeated key, in 8 bytes an entry.

A ``dict`` of a million keys costs some 150 MB (a ``str`` per key plus the table);
this index is one sorted ``array`` of ``hash(key)`` and entry number packed into
one 64-bit integer, built and sorted in C. Equal hashes are checked against the
keys themselves, so a hash collision never merges two keys.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from itertools import compress, count, islice, repeat
from operator import and_, eq, lshift, or_, rshift
from typing import TypeVar

V = TypeVar("V")


class KeyIndex:
    """Over ``keys`` (a :class:`~virtc.column.Column` or list), in the order makemap reads them."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = keys
        n = len(keys)
        self._shift = max(n.bit_length(), 1)
        self._mask = (1 << self._shift) - 1
        hashes = map(and_, map(hash, keys), repeat((1 << (63 - self._shift)) - 1))
        # (hash << shift) | entry: sorted, equal keys sit together, first entry first.
        self._packed = array("q", sorted(map(or_, map(lshift, hashes, repeat(self._shift)), count())))

    def first(self, key: str) -> int | None:
        """The first entry whose key is ``key`` (the one makemap stores), or None."""
        packed, shift = self._packed, self._shift
        h = (hash(key) & ((1 << (63 - shift)) - 1)) << shift
        j = bisect_left(packed, h)
        end = h | self._mask
        while j < len(packed) and packed[j] <= end:
            i: int = packed[j] & self._mask
            if self.keys[i] == key:
                return i
            j += 1
        return None

    @cached_property
    def duplicates(self) -> list[tuple[int, int]]:
        """(first, later) entry numbers for every key seen before, ordered by ``later``."""
        packed, shift, mask = self._packed, self._shift, self._mask
        if len(packed) < 2:
            return []
        hashes = array("q", map(rshift, packed, repeat(shift)))
        # positions j whose hash equals the one before: the only places a key can repeat
        same = list(compress(count(1), map(eq, islice(hashes, 1, None), hashes)))
        del hashes
        out: list[tuple[int, int]] = []
        j = 0
        for pos in same:
            if pos <= j:
                continue  # inside a run already handled
            j = pos
            while j + 1 < len(packed) and packed[j + 1] >> shift == packed[pos] >> shift:
                j += 1
            first: dict[str, int] = {}
            for p in range(pos - 1, j + 1):  # entry numbers ascend within a run
                i = packed[p] & mask
                k = first.setdefault(self.keys[i], i)
                if k != i:
                    out.append((k, i))
        return sorted(out, key=lambda pair: pair[1])

    @cached_property
    def later(self) -> frozenset[int]:
        """Entries whose key came before: makemap does not store them (unless -r)."""
        return frozenset(i for _, i in self.duplicates)

    def __len__(self) -> int:
        return len(self._packed)


class FirstValues(Mapping[str, V]):
    """``key -> value`` of the first entry of each key: what makemap stores, without a dict."""

    def __init__(self, index: KeyIndex, values: Sequence[V]) -> None:
        self.index = index
        self.column = values

    def __getitem__(self, key: str) -> V:
        i = self.index.first(key)
        if i is None:
            raise KeyError(key)
        return self.column[i]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        i = self.index.first(key)
        return default if i is None else self.column[i]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.index.first(key) is not None

    def __iter__(self) -> Iterator[str]:
        """The stored keys, in the order makemap first reads them."""
        later = self.index.later
        return (k for i, k in enumerate(self.index.keys) if i not in later)

    def __len__(self) -> int:
        return len(self.index) - len(self.index.later)
