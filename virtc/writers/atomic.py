"""Replace a file atomically: the target is always the old file or the complete new one.

makemap truncates and rewrites the map in place; sendmail may read it half
written. Here the new map is built in a temporary file in the same directory,
flushed to disk, checked, given the old map's owner and mode, and renamed over
the old one. Builds of one directory are serialised with a lock on the
directory; temporary files left by a killed build are removed by the next one,
under that lock. Around the rename the old map itself is locked (``LOCK_EX``,
as makemap does) so that virtc never renames over a map makemap is rewriting,
and SIGINT/SIGTERM/SIGHUP are held back so the commit is never half done.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import signal
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from virtc.errors import VirtcError

NEW_MODE = 0o640
"""sendmail's DBMMODE: maps hold addresses, so not world-readable."""
TEMP_MARK = ".virtc-tmp-"
TOKEN_HEX = 12
MAP_LOCK_TIMEOUT = 60.0
"""Seconds to wait for another process (makemap, a sendmail lookup) to release the old map."""
CHECKPOINT_ENV = "VIRTC_TEST_STOP_AT"
"""TEST-ONLY hook: name a checkpoint and the process stops itself (SIGSTOP) there.

Crash-safety tests use it to SIGKILL a build at an exact point (see
tests/safety/test_safety_crash.py). Unset in normal use; it has no other effect.
"""
CHECKPOINTS = ("locked", "written", "verified", "renamed")
_DEFERRED_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


BDB_CREATE_PREFIX = "__db."
"""Berkeley DB creates a new file under this prefix and renames it when it is set up:
a writer killed in between leaves ``__db.<temp name>`` behind."""


def temp_name(target: Path) -> Path:
    """A fresh temporary name beside ``target``, recognisable as ours."""
    return target.with_name(f".{target.name}{TEMP_MARK}{secrets.token_hex(TOKEN_HEX // 2)}")


def checkpoint(name: str) -> None:
    """Stop the process here if the test-only ``VIRTC_TEST_STOP_AT`` names this point."""
    if os.environ.get(CHECKPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGSTOP)


def _stale_temps(target: Path) -> Iterator[Path]:
    """Temporary files a killed build of *this* target left behind (regular files only)."""
    own = re.compile(f"(?:{re.escape(BDB_CREATE_PREFIX)})?"
                     + re.escape(f".{target.name}{TEMP_MARK}") + f"[0-9a-f]{{{TOKEN_HEX}}}")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if own.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise VirtcError(f"{directory}: cannot open directory: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _map_lock(target: Path, exists: bool) -> Iterator[None]:
    """Hold ``LOCK_EX`` on the old map, the lock makemap and sendmail take on the ``.db``."""
    if not exists:
        yield
        return
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        yield  # removed meanwhile: nothing to lock
        return
    except OSError as exc:
        raise VirtcError(f"{target}: cannot open the old map to lock it: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + MAP_LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise VirtcError(
                        f"{target}: still locked by another process (makemap?) after "
                        f"{MAP_LOCK_TIMEOUT:.0f} s"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[Callable[[], bool]]:
    """Hold back SIGINT/SIGTERM/SIGHUP; the yielded function tells whether one arrived.

    Pending signals are consumed on exit (the caller reports them), so a signal
    cannot split the rename from the directory fsync or from the cleanup.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    arrived = False

    def pending() -> bool:
        return arrived or bool(signal.sigpending() & _DEFERRED_SIGNALS)

    try:
        yield pending
    finally:
        while signal.sigpending() & _DEFERRED_SIGNALS:
            arrived = True
            signal.sigtimedwait(_DEFERRED_SIGNALS, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def check_target(target: Path) -> os.stat_result | None:
    """Refuse links at the target (as makemap does without -s); return its stat if it exists."""
    try:
        st = target.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise VirtcError(f"{target}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise VirtcError(f"{target}: is a symbolic link; refusing to write through it")
    if not stat.S_ISREG(st.st_mode):
        raise VirtcError(f"{target}: exists and is not a regular file")
    if st.st_nlink > 1:
        raise VirtcError(f"{target}: has {st.st_nlink} hard links; refusing to replace it")
    return st


def unsafe_directories(target: Path) -> list[str]:
    """sendmail's safedirpath verdict on every directory above ``target``, as makemap words it.

    sendmail refuses to open a map below a group- or world-writable directory
    ("World writable directory"); makemap only warns. Returned as warnings, root first.
    """
    found = []
    directory = Path(os.path.abspath(target.parent))
    for d in [*reversed(directory.parents), directory]:
        try:
            mode = d.stat().st_mode
        except OSError:
            continue
        if mode & stat.S_IWOTH:
            found.append(f"World writable directory {d}")
        elif mode & stat.S_IWGRP:
            found.append(f"Group writable directory {d}")
    return found


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unchanged(target: Path, tmp: Path, exc: BaseException) -> VirtcError:
    """A one-line error naming the target (not our temporary name)."""
    if isinstance(exc, OSError):
        reason = "no space left on device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    else:
        reason = str(exc).removeprefix(f"{target}: ").removeprefix(f"{tmp}: ")
        reason = reason.replace(str(tmp), "the temporary file")
    state = "the old map is unchanged" if target.exists() else "nothing was written"
    return VirtcError(f"{target}: {reason}; {state}")


def replace_atomically(
    target: Path,
    write: Callable[[Path, int], int],
    verify: Callable[[Path], int] | None = None,
    new_owner: int | None = None,
) -> int:
    """Build ``target`` through ``write(temp_path, mode)`` and rename it into place.

    ``write`` creates the temporary file and returns the record count; ``verify``
    re-reads the file and must return the same count. Any failure (including
    KeyboardInterrupt) removes the temporary file and leaves ``target`` untouched.
    An existing target's mode and owner are kept; a new one is given to ``new_owner``
    (a uid) when set, as makemap run by root gives a new map to sendmail's TrustedUser.
    """
    directory = target.parent
    if not directory.is_dir():
        raise VirtcError(f"{directory}: {'not a directory' if directory.exists() else 'no such directory'}")
    if not os.access(directory, os.W_OK | os.X_OK):
        why = "read-only file system" if _read_only_fs(directory) else "not writable"
        state = "the old map is unchanged" if target.exists() else "nothing was written"
        raise VirtcError(f"{directory}: directory is {why}; {state}")
    with _directory_lock(directory):
        checkpoint("locked")
        old = check_target(target)
        for stale in _stale_temps(target):
            _unlink_quietly(stale)
        mode = stat.S_IMODE(old.st_mode) if old else NEW_MODE
        tmp = temp_name(target)
        try:
            count = write(tmp, mode)
            _fsync_path(tmp)
            checkpoint("written")
            if verify is not None and (found := verify(tmp)) != count:
                raise VirtcError(f"wrote {count} record{'' if count == 1 else 's'} but read back {found}")
            os.chmod(tmp, mode)  # the creation mode was filtered by the umask
            if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.chown(tmp, old.st_uid, old.st_gid)
                except PermissionError:
                    raise VirtcError(
                        f"cannot give the new map the old owner (uid {old.st_uid}, gid {old.st_gid}): "
                        "permission denied"
                    ) from None
            elif old is None and new_owner:
                os.chown(tmp, new_owner, -1)
            checkpoint("verified")
            with _map_lock(target, old is not None), _signals_held() as interrupted:
                check_target(target)  # still no link planted there meanwhile
                os.replace(tmp, target)
                checkpoint("renamed")
                with contextlib.suppress(OSError):  # the rename is done; fsync only makes it durable
                    _fsync_path(directory, directory=True)
                late = interrupted()
        except (OSError, VirtcError) as exc:
            _cleanup(tmp)
            raise _unchanged(target, tmp, exc) from None
        except BaseException:
            _cleanup(tmp)
            raise
    if late:
        raise VirtcError(f"{target}: interrupted just after the new map was put in place", 130)
    return count


def replace_text(path: str | Path, data: bytes | Iterable[bytes]) -> None:
    """Replace the text file ``path`` with ``data`` (or its pieces, written as they come) as
    a map is replaced (temp file, fsync, same mode and owner, rename); a symlink stays one
    and the file it names is replaced. The one way ``lint --fix`` and ``fmt`` rewrite a
    source, and the exports write their files."""

    def write(tmp: Path, mode: int) -> int:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                for piece in data:
                    f.write(piece)
            return f.tell()

    real = Path(os.path.realpath(path))
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # (a new file: said below)
        mode = stat.S_IMODE(real.stat().st_mode)
        if not mode & 0o222:  # root could write it: ask, as an editor would
            raise VirtcError(f"{path}: read-only file (mode {mode:04o}): "
                             "not rewritten; make it writable to fix it")
    try:
        replace_atomically(real, write, lambda tmp: tmp.stat().st_size)
    except VirtcError as exc:
        raise VirtcError(str(exc).replace("the old map is unchanged", "the file is unchanged")
                         .replace("the new map", "the new file"), exc.exit_code) from None


def _read_only_fs(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _cleanup(tmp: Path) -> None:
    with _signals_held():
        _unlink_quietly(tmp)
        _unlink_quietly(tmp.with_name(BDB_CREATE_PREFIX + tmp.name))


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
