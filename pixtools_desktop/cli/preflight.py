"""Checks `pixtools process` makes before it queues anything.

Why before: a mistake that dooms the whole batch (a mistyped path, a folder
whose photos sit in sub-folders, an unknown op, the denoise model missing)
must be said once, with the fix, and exit 2 with nothing queued — not turn
into "0 done" and exit 0, nor into the same failure repeated for every file.
"""

from __future__ import annotations

from pathlib import Path

from pixtools_desktop.core.inputs import CollectedInputs, count_images


class PreflightError(Exception):
    """The request cannot run; the message says why and what to do."""


def check_op_names(ops: list[str]) -> None:
    """Unknown op names get the list of valid ones (the API's own message names a Python enum)."""
    from pixtools_desktop.core.ops import OperationType

    valid = [op.value for op in OperationType]
    unknown = [o for o in ops if o not in valid]
    if unknown:
        names = ", ".join(repr(o) for o in unknown)
        raise PreflightError(
            f"unknown operation{'s' if len(unknown) > 1 else ''} {names}; valid operations: {', '.join(valid)}"
        )


def missing_paths(paths: list[str]) -> list[str]:
    return [p for p in paths if not Path(p).expanduser().exists()]


def check_paths(paths: list[str]) -> None:
    missing = missing_paths(paths)
    if missing:
        listed = "\n  ".join(missing)
        raise PreflightError(
            f"no such file or folder:\n  {listed}" if len(missing) > 1 else f"no such file or folder: {missing[0]}"
        )


def folders_without_images(paths: list[str], collected: CollectedInputs) -> list[tuple[str, bool]]:
    """Given folders that yielded no image: (folder, has images in sub-folders)."""
    found = [f.resolve() for f in collected.files]
    out = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.is_dir():
            continue
        root = p.resolve()
        if any(root in f.parents for f in found):
            continue
        out.append((raw, count_images(p, recursive=True, limit=1) > 0))
    return out


def empty_folder_notes(paths: list[str], collected: CollectedInputs, *, recursive: bool) -> list[str]:
    """One sentence per given folder that holds no image we would take."""
    notes = []
    for folder, in_subfolders in folders_without_images(paths, collected):
        if in_subfolders and not recursive:
            notes.append(f"no images found in {folder} (use --recursive to look in sub-folders)")
        else:
            notes.append(f"no images found in {folder}")
    return notes


def check_not_empty(paths: list[str], collected: CollectedInputs, *, recursive: bool) -> None:
    if collected.files:
        return
    notes = empty_folder_notes(paths, collected, recursive=recursive)
    if len(notes) == 1:
        raise PreflightError(notes[0])
    if any("--recursive" in n for n in notes):
        raise PreflightError("no images found (use --recursive to look in sub-folders)")
    raise PreflightError("no images found")


def check_denoise_model(settings, params: dict | None = None) -> None:
    """Say once, before the batch, that denoise cannot run here and how to fix it.

    `auto` (the default) runs with whichever model is installed; `dncnn` and `ffdnet` need theirs."""
    from pixtools_desktop.ml import model_health
    from pixtools_desktop.ml import weights as W

    model = (params or {}).get("model", getattr(settings, "denoise_model", "auto"))
    ffdnet = W.find_weights(settings, W.FFD_COLOR)
    if model == "ffdnet" or (model == "auto" and ffdnet is not None and W.find_weights(settings, W.COLOR) is None):
        if ffdnet is None:
            raise PreflightError(
                "denoise with FFDNet needs its weights, which are not installed. "
                f"{W.HOW_TO_GET_FFDNET} Then run this command again."
            )
        return
    health = model_health(settings)
    if health["status"] == "missing":
        raise PreflightError(
            "denoise needs the model weights, which are not installed. Get them once with "
            "`pixtools models download` (the authors' colour model, 2.8 MB, sha256 checked), or "
            "`pixtools models import FILE` with a DnCNN .mat or .pth you have; then run this command again."
        )
    if health["status"] == "error":
        raise PreflightError(f"the denoise model cannot be used: {health['detail']}")
    # Load torch here, not in the model thread: loading its libraries holds the GIL for seconds,
    # and a Ctrl+C pressed then could not be handled until it is done.
