"""Write pixtools(1) from the built program's own `--help` texts.

    python packaging/linux/make_manpage.py BUNDLE/pixtools OUT.1

Why from the binary: the man page then says exactly what the packaged
program accepts (argparse is the one source of truth), and no second copy of
the option list can drift. Each sub-command's `--help` becomes a section.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path


def _help(exe: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env.update(COLUMNS="78", QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([exe, *args, "--help"], env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"{exe} {' '.join(args)} --help failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def _roff(text: str) -> str:
    """Literal text for a .nf block: escape backslashes and leading dots/quotes."""
    out = []
    for line in text.rstrip().splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def commands(main_help: str) -> list[str]:
    """Sub-command names from the `COMMAND` block of the main help."""
    block = main_help.split("positional arguments:", 1)[-1].split("options:", 1)[0]
    return re.findall(r"^    ([a-z][a-z0-9-]*)\s", block, flags=re.M)


def manpage(exe: str, version: str) -> str:
    main = _help(exe)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or datetime.datetime.now().timestamp())
    date = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    parts = [
        f'.TH PIXTOOLS 1 "{date:%Y-%m-%d}" "PixTools Desktop {version}" "User Commands"',
        ".SH NAME",
        "pixtools \\- convert, resize, read metadata from and denoise photos",
        ".SH SYNOPSIS",
        ".B pixtools",
        "[\\fIFILE\\fR...]",
        ".br",
        ".B pixtools",
        "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        "Without a command, \\fBpixtools\\fR opens the window (a second start hands its files to the "
        "window already open). With a command it works headless in the terminal.",
        ".PP",
        ".nf",
        _roff(main),
        ".fi",
    ]
    for cmd in commands(main):
        parts += [f".SH COMMAND: {cmd.upper()}", ".nf", _roff(_help(exe, cmd)), ".fi"]
    parts += [
        ".SH FILES",
        "Settings, the job database, logs and downloaded model weights live in the user's folders "
        "(\\fI~/.config/PixTools\\fR, \\fI~/.local/share/PixTools\\fR, \\fI~/.local/state/PixTools\\fR, "
        "or the XDG_* variables); \\fBPIXTOOLS_HOME\\fR puts them all under one folder.",
        ".SH SEE ALSO",
        "\\fIpixtools models download\\fR fetches the denoise model (sha256 checked).",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe, out = argv[1], Path(argv[2])
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout.split()[-1]
    out.write_text(manpage(exe, version), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
