"""Writing files so that a failed run never leaves half a file or spoils a good one.

- `atomic_write(path, text)`: text (UTF-8) via a temporary file in the same folder, fsync, a rename.
- `atomic_write_bytes(path, data)`: the same for bytes (PNG pictures).

Whatever interrupts a write (an error, a full disk, Ctrl-C), the temporary file is removed and
``path`` keeps its old content; once the call returns, the new content is on disk. Every module
that writes a user's file (models, pictures, pages, predictions) goes through here.
"""

import os
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


__all__ = ["atomic_write", "atomic_write_bytes"]
