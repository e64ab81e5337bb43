"""Writing files so that a failed run never leaves half a file or spoils a good one.

- `atomic_write(path, text)`: text (UTF-8) via a temporary file in the same folder, fsync, a rename.
- `atomic_write_bytes(path, data)`: the same for bytes (PNG pictures).
- `read_input(path, limit=MAX_INPUT_BYTES)`: the bytes of a regular file, refusing a FIFO, a device,
  a socket, a folder or a file larger than ``limit`` with an OSError that says why.

Whatever interrupts a write (an error, a full disk, Ctrl-C), the temporary file is removed and
``path`` keeps its old content; once the call returns, the new content is on disk. Every module
that writes a user's file (models, pictures, pages, predictions) goes through here.
"""

import errno
import os
import stat
import tempfile


def atomic_write(path, text):
    """Write ``text`` to ``path`` as UTF-8, atomically (see the module docstring)."""
    atomic_write_bytes(path, text.encode("utf-8"))   # an unencodable text fails here, before any file exists


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` via a temporary file in the same folder, fsync, a rename,
    fsync of the folder; an error names ``path``, never the temporary file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:      # name the file the user asked for, not our temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_folder(folder)


#: The most ``read_input`` reads by default: a model file, a CSV or a document larger than this is
#: refused, not read until memory runs out.
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_input(path, limit=MAX_INPUT_BYTES):
    """The bytes of the regular file at ``path``, at most ``limit`` of them, else an OSError saying why.

    A FIFO, a device (``/dev/zero``, ``/dev/stdin``), a socket or a folder is refused before
    anything is read (a FIFO is opened without waiting for a writer), so no input can block a
    command forever or feed it without end; a file that grows past ``limit`` while being read is
    refused too. The OSError's ``strerror`` is one readable phrase, its ``filename`` the path.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        if not stat.S_ISREG(mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket"
                    if stat.S_ISSOCK(mode) else "not a regular file")
            raise OSError(errno.EINVAL, f"is {kind}, not a regular file (give a file: microreg reads it whole)",
                          str(path))
        with open(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
        raise OSError(errno.EFBIG, f"is larger than {size}, the most microreg reads", str(path))
    return data


def _fsync_folder(folder):
    """Make the rename itself durable (where the system lets a folder be opened: not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["atomic_write", "atomic_write_bytes", "read_input", "MAX_INPUT_BYTES"]
