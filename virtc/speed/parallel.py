"""Work done in a forked helper process, at the same time as the work here.

virtc's large-table work is CPU-bound Python and the machine usually has a
second core. After ``fork()`` the helper shares the table (and whatever was
computed before) copy-on-write: a few large strings and arrays whose pages are
never written, so they are not copied. Only the helper's result comes back,
pickled through a pipe. Used for the lint's rules (shared out by :class:`Claims`)
and for writing the map while the build lints.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from itertools import chain
from types import TracebackType
from typing import BinaryIO, Generic, NamedTuple, TypeVar

from virtc import progress
from virtc.errors import VirtcError

T = TypeVar("T")

MIN_ENTRIES = 50_000
"""Below this a table is done in well under a second: a helper would not pay for itself."""


def available() -> bool:
    return hasattr(os, "fork")


def split_allowed(jobs: int | None = None) -> bool:
    """Whether the user's ``-j`` allows a helper process.

    1 keeps everything in one process (the least memory); None means two
    processes when the machine has two CPUs or more.
    """
    if jobs is None:
        jobs = os.cpu_count() or 1
    return jobs >= 2 and available()


def use_helper(entries: int, jobs: int | None = None) -> bool:
    """Whether work on a table of ``entries`` should use a helper process (see :func:`split_allowed`)."""
    return entries >= MIN_ENTRIES and split_allowed(jobs)


class _Raised(NamedTuple):
    """An error the caller handles (a full disk, an unwritable file), raised again here."""

    error: BaseException


class _Failed(NamedTuple):
    """Anything else the helper raised: a bug, reported with the helper's traceback."""

    why: str


class _Chunks(NamedTuple):
    """A list result sent as ``n`` pickles of up to :data:`CHUNK` items each, not one."""

    n: int


CHUNK = 10_000
"""Items of a list result pickled at a time: pickle remembers every object it has written
or read (to keep shared references), 30 MB for 160k diagnostics in one pickle."""


class HelperFailed(RuntimeError):
    """The helper raised something unexpected (the message has its traceback)."""


PIPE_BYTES = 1 << 20
"""Linux's default limit for an unprivileged pipe (``/proc/sys/fs/pipe-max-size``)."""


def _widen(fd: int) -> None:
    """Give the pipe a 1 MiB buffer instead of 64 KiB where the system allows it: a helper's
    result can be tens of MB, and each buffer's worth costs both processes a wake-up."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or a lower limit: the default
        pass


class Helper(Generic[T]):
    """``work()`` running in a forked process; :meth:`result` waits for what it returned.

    With ``results`` > 1, ``work`` is a generator: each of the ``results`` items it
    yields is sent as soon as it is made, and each call of :meth:`result` takes the
    next one (the helper can go on to other work once the first is taken).
    As a context manager, leaving the block early (an exception) kills the helper.
    """

    def __init__(self, work: Callable[[], T] | Callable[[], Iterator[T]], results: int = 1) -> None:
        read_end, write_end = os.pipe()
        _widen(write_end)
        self.pid = os.fork()
        if self.pid == 0:  # the helper: never returns
            os.close(read_end)
            _serve(work, write_end, results > 1)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")
        self._left = results

    def result(self) -> T:
        """What ``work()`` returned (or its next item); an OSError or VirtcError it raised
        is raised here."""
        import pickle

        try:
            outcome = pickle.load(self._pipe)  # read as it comes: no copy of the whole stream
            if isinstance(outcome, _Chunks):
                items: list[object] = []
                for _ in range(outcome.n):
                    items += pickle.load(self._pipe)
                outcome = items
        except (EOFError, pickle.UnpicklingError):
            outcome = None
        self._left -= 1
        if outcome is None or isinstance(outcome, (_Raised, _Failed)) or not self._left:
            self._pipe.close()
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
        if outcome is None:
            outcome = _Failed(f"it exited with status {status} without a result")
        if isinstance(outcome, _Raised):
            raise outcome.error
        if isinstance(outcome, _Failed):
            raise HelperFailed(f"helper process failed: {outcome.why}")
        result: T = outcome
        return result

    def ready(self) -> bool:
        """Whether :meth:`result` would return at once (the helper has sent it, or ended)."""
        import select

        return bool(select.select([self._pipe], [], [], 0)[0])

    def cancel(self) -> None:
        """Stop the helper (if it still runs) and forget its result."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        self._pipe.close()

    def __enter__(self) -> Helper[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.cancel()


def _serve(work: Callable[[], object], write_end: int, items: bool) -> None:
    import pickle
    import traceback

    status = 1
    try:
        with os.fdopen(write_end, "wb") as pipe:
            try:
                progress.detach()  # the parent owns the terminal
                result = work()
                if items:  # a generator: each item sent as it comes, and let go of at once
                    assert isinstance(result, Iterator)
                    _send_each(result, pipe)
            except (OSError, VirtcError) as exc:
                try:
                    payload = pickle.dumps(_Raised(exc))
                except Exception:  # an error that does not pickle: report it as text
                    payload = pickle.dumps(_Failed(traceback.format_exc()))
                pipe.write(payload)
            except BaseException:  # reported to the parent, which raises it
                pipe.write(pickle.dumps(_Failed(traceback.format_exc())))
            else:
                if not items:  # written as it is pickled: a large result is never held twice
                    _send(result, pipe)
                status = 0
    finally:
        os._exit(status)  # no atexit handlers, no flushing the parent's buffers


def _send(result: object, pipe: BinaryIO) -> None:
    """Pickle ``result`` into ``pipe`` as it is pickled (see :func:`_parts`)."""
    import pickle

    for part in _parts(result):
        pickle.dump(part, pipe, protocol=pickle.HIGHEST_PROTOCOL)


def _parts(result: object) -> Iterator[object]:
    """What to pickle for ``result``: itself, or a long list as :class:`_Chunks` and then
    a :data:`CHUNK` at a time, each let go of once the next is asked for."""
    if not isinstance(result, list) or len(result) <= CHUNK:
        yield result
        return
    yield _Chunks(-(-len(result) // CHUNK))
    while result:
        yield result[:CHUNK]
        del result[:CHUNK]


def _send_each(items: Iterator[object], pipe: BinaryIO) -> None:
    """Pickle each item and send it from a thread while the next one is made: the parent may
    take an item long after it is ready, and a full pipe must not hold the helper up."""
    import pickle
    import threading

    failed: list[OSError] = []

    def send(payload: bytes) -> None:
        try:
            pipe.write(payload)
            pipe.flush()
        except OSError as exc:  # the parent gone: raised in the helper's main thread below
            failed.append(exc)

    sending: threading.Thread | None = None
    try:
        for part in chain.from_iterable(map(_parts, items)):
            payload = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
            del part
            if sending is not None:
                sending.join()  # (in order, and never two payloads' bytes at once)
            if failed:
                raise failed[0]
            sending = threading.Thread(target=send, args=(payload,))
            sending.start()
            del payload
    finally:  # before anything else is written: an error the work raised comes after the items
        if sending is not None:
            sending.join()
    if failed:
        raise failed[0]


class Claims:
    """The numbers ``0..n-1``, each handed to whichever process asks first: processes forked
    while it is open share it, so a list of tasks is worked through by all of them."""

    def __init__(self, n: int) -> None:
        if not 0 <= n <= 255:
            raise ValueError(f"{n} claims: at most 255 (one byte each)")
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, bytes(range(n)))  # (a pipe holds 4 KiB at the least)
        finally:
            os.close(write_end)
        self._fd = read_end

    def __iter__(self) -> Iterator[int]:
        """The next unclaimed numbers, until none is left (a read of one byte is atomic)."""
        while self._fd >= 0:
            got = os.read(self._fd, 1)
            if not got:
                return
            yield got[0]

    def take(self) -> int | None:
        """The next unclaimed number, None when none is left."""
        return next(iter(self), None)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
