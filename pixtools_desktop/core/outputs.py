"""Where outputs go and how they land on disk.

- Names come from a template (`{stem}_{op}.{ext}` by default) so a batch is
  predictable; unknown placeholders are a validation error before the run,
  never a crash mid-batch.
- The overwrite policy is chosen once per batch: unique name, overwrite or skip.
- Every file is written to a temporary file in the *target* folder, fsynced and
  renamed into place: a crash leaves the old state or the new one, never a
  half-written file under the final name. Temporary names start with
  `.pixtools-tmp-` so leftovers from a killed process are easy to sweep.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import string
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pixtools_desktop.core.errors import ErrorCode, OutputWriteError, ValidationError
from pixtools_desktop.core.jobs import OverwritePolicy

TMP_PREFIX = ".pixtools-tmp-"


def _default_file_mode() -> int:
    """0666 minus the umask: what a plain open() would give (mkstemp's 0600 would hide outputs)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_file_mode()
_fallback_lock = threading.Lock()
PLACEHOLDERS = {"stem", "op", "ext", "date", "time", "n", "parent"}
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def validate_template(template: str) -> None:
    """Reject templates with unknown or malformed placeholders, before any job runs."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValidationError(f"Naming template {template!r} is malformed: {exc}") from exc
    unknown = {f.split(":")[0].split("!")[0] for f in fields} - PLACEHOLDERS
    if unknown:
        raise ValidationError(
            f"Naming template uses unknown placeholder(s) {', '.join(sorted('{' + u + '}' for u in unknown))}; "
            f"known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
        )
    if not fields or "{" not in template:
        raise ValidationError("Naming template must contain at least one placeholder such as {stem}")


def render_name(template: str, *, input_path: Path, op: str, ext: str, n: int, when: datetime | None = None) -> str:
    when = when or datetime.now()
    name = template.format(
        stem=input_path.stem,
        op=op,
        ext=ext,
        date=when.strftime("%Y-%m-%d"),
        time=when.strftime("%H%M%S"),
        n=n,
        parent=input_path.parent.name,
    )
    # Path separators in a rendered name would escape the output folder.
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        raise ValidationError("Naming template produced an empty file name")
    return name


def output_dir_for(input_path: Path, output_dir: str | None) -> Path:
    return Path(output_dir).expanduser() if output_dir else input_path.parent


def resolve_target(target: Path, policy: OverwritePolicy, reserved: set[Path] | None = None) -> tuple[Path, bool]:
    """Apply the overwrite policy: returns (path, skip)."""
    reserved = reserved or set()
    if policy == OverwritePolicy.OVERWRITE:
        return target, False
    if not target.exists() and target not in reserved:
        return target, False
    if policy == OverwritePolicy.SKIP:
        return target, True
    i = 2
    while True:
        candidate = target.with_name(f"{target.stem} ({i}){target.suffix}")
        if not candidate.exists() and candidate not in reserved:
            return candidate, False
        i += 1


def _disk_nearly_full(folder: Path) -> bool:
    """Encoders (libtiff, libpng) often report a full disk without errno: look for ourselves."""
    try:
        return shutil.disk_usage(folder).free < 1024 * 1024
    except OSError:
        return False


def _explain_os_error(exc: OSError, folder: Path) -> OutputWriteError:
    if exc.errno == errno.ENOSPC or (exc.errno is None and _disk_nearly_full(folder)):
        return OutputWriteError(
            f"The disk is full: there is no space left in {folder}.", transient=True, code=ErrorCode.DISK_FULL
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputWriteError(f"Cannot write to {folder}: permission denied (the folder is read-only).")
    if exc.errno == errno.ENOENT:
        return OutputWriteError(f"The output folder {folder} does not exist and could not be created.")
    if exc.errno == errno.EDQUOT:
        return OutputWriteError(f"Your disk quota is exceeded in {folder}.", transient=True, code=ErrorCode.DISK_FULL)
    return OutputWriteError(f"Could not write to {folder}: {exc.strerror or exc}.", transient=True)


@contextmanager
def _temp_output(target: Path, write: Callable[[BinaryIO], None], tag: str) -> Iterator[tuple[Path, int]]:
    """Write a complete, fsynced temporary file beside `target`; always removed afterwards.

    OS errors (here or in the caller's rename) become OutputWriteError with a plain message.
    """
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{tag}", suffix=target.suffix, dir=folder)
    except OSError as exc:
        raise _explain_os_error(exc, folder) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        yield tmp, tmp.stat().st_size
    except OSError as exc:
        raise _explain_os_error(exc, folder) from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, write: Callable[[BinaryIO], None], *, tag: str = "") -> int:
    """Write via a temporary file in the target folder, fsync, rename. Returns the size."""
    with _temp_output(target, write, tag) as (tmp, size):
        os.replace(tmp, target)
    return size


def _no_clobber_rename(tmp: Path, target: Path) -> bool:
    """Move tmp to target only if target does not exist, atomically (hard link + unlink).

    Two jobs naming the same output at once (photo.png in two folders) must not
    overwrite each other: `os.replace` would, `os.link` fails with EEXIST.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        with _fallback_lock:  # filesystems without hard links (FAT, some shares)
            if target.exists():
                return False
            os.replace(tmp, target)
            return True
    return True


def write_output(
    target: Path,
    write: Callable[[BinaryIO], None],
    *,
    policy: OverwritePolicy,
    tag: str = "",
) -> tuple[Path, int | None]:
    """Write one output under the overwrite policy, encoding only once.

    Returns (final path, size); size is None when the policy is SKIP and the
    name is taken. With UNIQUE the next free " (n)" name is taken atomically.
    """
    if policy == OverwritePolicy.OVERWRITE:
        return target, write_atomic(target, write, tag=tag)
    with _temp_output(target, write, tag) as (tmp, size):
        candidate = target
        while not _no_clobber_rename(tmp, candidate):
            if policy == OverwritePolicy.SKIP:
                return candidate, None
            candidate, _ = resolve_target(candidate, OverwritePolicy.UNIQUE)
    return candidate, size


def sweep_temp_files(folder: Path, tag: str = "") -> int:
    """Remove temporary files a killed process left behind (only ours, by prefix)."""
    n = 0
    try:
        for p in folder.glob(f"{TMP_PREFIX}{tag}*"):
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def bundle_member_name(op: str, input_path: Path, ext: str) -> str:
    """The API's archive member name: pixtools_{op}_{base}.{ext}."""
    return f"pixtools_{op}_{input_path.stem}.{ext}"


def write_bundle(target: Path, members: list[tuple[str, Path]], *, tag: str = "") -> int:
    """A ZIP of a job's outputs, written atomically like every other output."""

    def _write(fh: BinaryIO) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for arcname, path in members:
                zf.write(path, arcname)

    return write_atomic(target, _write, tag=tag)
