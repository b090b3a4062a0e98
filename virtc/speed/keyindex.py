"""Find a key's first entry, and every repeated key, in 8 bytes an entry.

A ``dict`` of keys costs a ``str`` per key plus the table, some 19 times this index;
this index is one sorted ``array`` of ``hash(key)`` and entry number packed into
one number, built and sorted in C. Equal hashes are checked against the keys
themselves, so a hash collision never merges two keys.

The packed numbers are floats below 2**53 (integers, exactly): Python sorts a
list of floats twice as fast as one of 64-bit ints, which is most of the build.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import ItemsView, Iterator, Mapping, Sequence
from functools import cached_property
from itertools import compress, count, islice, repeat
from operator import and_, gt, lshift, or_, sub
from typing import NamedTuple, TypeVar

from virtc.speed import memory

V = TypeVar("V")

_EXACT_BITS = 53
"""A float holds every integer below 2**53 exactly."""
_RELEASE_FROM = 1 << 16
"""Keys from which a built index gives the memory of its floats back at once
(:func:`virtc.speed.memory.give_back`): 26 MB at 1M keys, for some milliseconds."""


class KeyIndexParts(NamedTuple):
    """A built index without its keys: what a helper process sends back (see Table.adopt_key_index)."""

    shift: int
    bucket_shift: int
    packed: array[float]
    buckets: array[int]
    duplicates: list[tuple[int, int]] | None
    """None: left for the receiving process to find (see :meth:`KeyIndex.parts`)."""


class KeyIndex:
    """Over ``keys`` (a :class:`~virtc.speed.column.Column` or list), in the order makemap reads them.

    ``parts`` (from :meth:`parts` of an index of the same keys, built by a helper
    process) gives the index without building it again.
    """

    def __init__(self, keys: Sequence[str], parts: KeyIndexParts | None = None) -> None:
        self.keys = keys
        # (a Column's text and offsets, for first()'s inline slicing; None for a list)
        self._text: str | None = getattr(keys, "text", None)
        self._starts: Sequence[int] = getattr(keys, "starts", ())
        if parts is not None:
            self._shift, self._bucket_shift = parts.shift, parts.bucket_shift
            self._mask = (1 << parts.shift) - 1
            self._hash_mask = (1 << (_EXACT_BITS - parts.shift)) - 1
            self._packed, self._buckets = parts.packed, parts.buckets
            if parts.duplicates is not None:
                self.__dict__["duplicates"] = parts.duplicates  # the cached property, computed there
            return
        n = len(keys)
        self._shift = shift = max(n.bit_length(), 1)  # entry-number bits; the rest is hash
        self._mask = (1 << shift) - 1
        self._hash_mask = (1 << (_EXACT_BITS - shift)) - 1
        hashes = map(and_, map(hash, keys), repeat(self._hash_mask))
        # (hash << shift) | entry, sorted: equal keys sit together, first entry first.
        packed = sorted(map(float, map(or_, map(lshift, hashes, repeat(shift)), count())))
        self._packed = array("d", packed)
        del packed
        if n >= _RELEASE_FROM:
            memory.give_back()  # (the floats' arenas, pinned by the float free list)
        # Where each of 2**b buckets (by the top hash bits) starts: a lookup then bisects
        # some 16 numbers instead of a million (each probe of an array makes a float).
        bucket_bits = max(min((n >> 4).bit_length(), _EXACT_BITS - shift), 0)
        self._bucket_shift = _EXACT_BITS - bucket_bits
        width = float(1 << self._bucket_shift)
        self._buckets = array("I", map(bisect_left, repeat(self._packed),
                                       map(float.__mul__, map(float, range(1 << bucket_bits)),
                                           repeat(width))))
        self._buckets.append(n)

    def drop_lookups(self) -> None:
        """Free the sorted hashes, most of the index: :attr:`duplicates` and :attr:`later`
        stay, :meth:`first` can no longer be asked (it raises AttributeError)."""
        _ = self.later
        del self._packed, self._buckets

    def parts(self, duplicates: bool = True) -> KeyIndexParts:
        """What another process needs to use this index; without ``duplicates``, it finds
        them itself (for a helper with other work to do)."""
        return KeyIndexParts(self._shift, self._bucket_shift, self._packed, self._buckets,
                             self.duplicates if duplicates else None)

    def first(self, key: str) -> int | None:
        """The first entry whose key is ``key`` (the one makemap stores), or None."""
        # (Hot: rules ask it per forward. Keys of one hash part sort together inside one
        # bucket, so the bucket's end bounds the scan; a Column's text is sliced inline.)
        shift = self._shift
        h = (hash(key) & self._hash_mask) << shift
        b = h >> self._bucket_shift
        buckets, packed = self._buckets, self._packed
        hi = buckets[b + 1]
        # (float against float: int against float is slow)
        j = bisect_left(packed, float(h), buckets[b], hi)
        end = float(h | self._mask)
        mask, text, starts = self._mask, self._text, self._starts
        while j < hi and packed[j] <= end:
            i = int(packed[j]) & mask
            if text is not None:
                if text[starts[i]:starts[i + 1] - 1] == key:
                    return i
            elif self.keys[i] == key:
                return i
            j += 1
        return None

    @cached_property
    def duplicates(self) -> list[tuple[int, int]]:
        """(first, later) entry numbers for every key seen before, ordered by ``later``."""
        packed, mask = self._packed, self._mask
        if len(packed) < 2:
            return []
        # Equal neighbours' hash parts are the only places a key can repeat. Such neighbours
        # differ by less than the entry numbers' width: the few that do are then divided
        # (exact: by a power of two), not every number.
        width = float(1 << self._shift)
        close = compress(count(1), map(gt, repeat(width), map(sub, islice(packed, 1, None), packed)))
        same = [j for j in close if packed[j] // width == packed[j - 1] // width]
        out: list[tuple[int, int]] = []
        j = 0
        for pos in same:
            if pos <= j:
                continue  # inside a run already handled
            j, hashed = pos, packed[pos] // width
            while j + 1 < len(packed) and packed[j + 1] // width == hashed:
                j += 1
            first: dict[str, int] = {}
            for p in range(pos - 1, j + 1):  # entry numbers ascend within a run
                i = int(packed[p]) & mask
                k = first.setdefault(self.keys[i], i)
                if k != i:
                    out.append((k, i))
        return sorted(out, key=lambda pair: pair[1])

    @cached_property
    def later(self) -> frozenset[int]:
        """Entries whose key came before: makemap does not store them (unless -r)."""
        return frozenset(i for _, i in self.duplicates)

    def __len__(self) -> int:
        return len(self.keys)


class FirstValues(Mapping[str, V]):
    """``key -> value`` of the first entry of each key: what makemap stores, without a dict."""

    def __init__(self, index: KeyIndex, values: Sequence[V]) -> None:
        self.index = index
        self.column = values
        self._first = index.first

    def __getitem__(self, key: str) -> V:
        i = self._first(key)
        if i is None:
            raise KeyError(key)
        return self.column[i]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        i = self._first(key)
        return default if i is None else self.column[i]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._first(key) is not None

    def __iter__(self) -> Iterator[str]:
        """The stored keys, in the order makemap first reads them."""
        later = self.index.later
        return (k for i, k in enumerate(self.index.keys) if i not in later)

    def __len__(self) -> int:
        return len(self.index) - len(self.index.later)

    def items(self) -> ItemsView[str, V]:
        return _FirstItems(self)


class _FirstItems(ItemsView[str, V]):
    """:meth:`FirstValues.items`, iterated along the columns (no key lookup each)."""

    _mapping: FirstValues[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        values = self._mapping
        later = values.index.later
        pairs = zip(values.index.keys, values.column)
        return (pair for i, pair in enumerate(pairs) if i not in later) if later else pairs
