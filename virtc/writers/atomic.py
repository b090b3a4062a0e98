"""Replace a file atomically: the target is always the old file or the complete new one.

makemap truncates and rewrites the map in place; sendmail may read it half
written. Here the new map is built in a temporary file in the same directory,
flushed to disk, checked, given the old map's owner and mode, and renamed over
the old one. Builds of one directory are serialised with a lock on the
directory; temporary files left by a killed build are removed by the next one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from virtc.errors import VirtcError

NEW_MODE = 0o640
"""sendmail's DBMMODE: maps hold addresses, so not world-readable."""
TEMP_MARK = ".virtc-tmp-"


def temp_name(target: Path) -> Path:
    """A fresh temporary name beside ``target``, recognisable as ours."""
    return target.with_name(f".{target.name}{TEMP_MARK}{secrets.token_hex(6)}")


def _stale_temps(target: Path) -> Iterator[Path]:
    prefix = f".{target.name}{TEMP_MARK}"
    with contextlib.suppress(OSError):
        for p in target.parent.iterdir():
            if p.name.startswith(prefix):
                yield p


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


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(
    target: Path,
    write: Callable[[Path, int], int],
    verify: Callable[[Path], int] | None = None,
) -> int:
    """Build ``target`` through ``write(temp_path, mode)`` and rename it into place.

    ``write`` creates the temporary file and returns the record count; ``verify``
    re-reads the file and must return the same count. Any failure (including
    KeyboardInterrupt) removes the temporary file and leaves ``target`` untouched.
    """
    directory = target.parent
    if not directory.is_dir():
        raise VirtcError(f"{directory}: no such directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise VirtcError(f"{directory}: directory is not writable")
    with _directory_lock(directory):
        old = check_target(target)
        for stale in _stale_temps(target):
            with contextlib.suppress(OSError):
                stale.unlink()
        mode = stat.S_IMODE(old.st_mode) if old else NEW_MODE
        tmp = temp_name(target)
        try:
            count = write(tmp, mode)
            _fsync_path(tmp)
            if verify is not None and (found := verify(tmp)) != count:
                raise VirtcError(f"{target}: wrote {count} records but read back {found}")
            os.chmod(tmp, mode)  # the creation mode was filtered by the umask
            if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.chown(tmp, old.st_uid, old.st_gid)
                except PermissionError:
                    raise VirtcError(
                        f"{target}: cannot give the new map the old owner "
                        f"(uid {old.st_uid}, gid {old.st_gid}): permission denied"
                    ) from None
            if old is not None and check_target(target) is None:
                raise VirtcError(f"{target}: was removed during the build")
            os.replace(tmp, target)
        except OSError as exc:
            _unlink_quietly(tmp)
            if exc.errno == errno.ENOSPC:
                raise VirtcError(f"{target}: no space left on device; the old map is unchanged") from None
            raise VirtcError(f"{target}: {exc.strerror or exc}; the old map is unchanged") from None
        except BaseException:
            _unlink_quietly(tmp)
            raise
        _fsync_path(directory, directory=True)
    return count


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
