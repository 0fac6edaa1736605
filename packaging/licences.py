"""Attribute every file of a built bundle to its source and licence.

    python packaging/licences.py BUNDLE_DIR [--work WORK_DIR] [--check]

Writes BUNDLE_DIR/THIRD-PARTY-NOTICES.txt: for each top-level entry of
`_internal/` (and the Python modules inside the executable's archive) the
project it comes from, its version, its licence and where its source is.
Run with the interpreter that built the bundle: the attribution reads that
environment's package metadata (RECORD files) and, for system libraries
PyInstaller copied from the build machine, the Debian package database
(`dpkg -S`, `/usr/share/doc/PKG/copyright`).

Why: the .deb, the AppImage and the installers must say what they carry and
under which terms (LGPL Qt, BSD torch, Apache botocore, PSF Python ...), and
model weights may only be shipped where a licence allows it (see
`WEIGHTS_LICENCES`). `--check` exits 1 when an entry cannot be attributed or
a bundled weight file has no licence that allows redistribution.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Model files an installer may carry: only those whose publisher states a licence that allows it.
# The authors' MatConvNet repositories (cszn/DnCNN, cszn/FFDNet) state none, so their .mat files are
# downloaded by the user on first use (sha256 checked) instead; cszn/KAIR (MIT) publishes the same
# networks as .pth.
WEIGHTS_LICENCES = {
    "dncnn_color_blind.pth": ("cszn/KAIR model_zoo (https://github.com/cszn/KAIR)", "MIT"),
    "dncnn_gray_blind.pth": ("cszn/KAIR model_zoo (https://github.com/cszn/KAIR)", "MIT"),
    "dncnn_25.pth": ("cszn/KAIR model_zoo (https://github.com/cszn/KAIR)", "MIT"),
    "ffdnet_color.pth": ("cszn/KAIR model_zoo (https://github.com/cszn/KAIR)", "MIT"),
    "ffdnet_gray.pth": ("cszn/KAIR model_zoo (https://github.com/cszn/KAIR)", "MIT"),
}
NO_LICENCE = {
    "GD_Color_Blind.mat": "cszn/DnCNN (no licence stated)",
    "GD_Gray_Blind.mat": "cszn/DnCNN (no licence stated)",
    "gray_sigma25.mat": "cszn/DnCNN (no licence stated)",
    "FFDNet_color.mat": "cszn/FFDNet (no licence stated)",
    "FFDNet_gray.mat": "cszn/FFDNet (no licence stated)",
}

PYTHON = (
    "CPython 3.11 runtime and standard library",
    f"{sys.version.split()[0]}",
    "PSF-2.0",
    "https://www.python.org/downloads/source/",
)
PIXTOOLS = ("PixTools Desktop", None, "MIT", "this repository")


@dataclass
class Row:
    entry: str
    project: str
    version: str
    licence: str
    source: str


def _dist_licence(dist: md.Distribution) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression")
    if expr:
        return expr
    lic = (meta.get("License") or "").strip()
    if lic and len(lic) < 120 and "\n" not in lic:
        return lic
    classifiers = [
        c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    if classifiers:
        return " / ".join(classifiers)
    if lic:  # a whole licence text in the License field: name it by its first line
        return lic.splitlines()[0][:100]
    return "see the project's licence file"


def _dist_source(dist: md.Distribution) -> str:
    meta = dist.metadata
    urls = meta.get_all("Project-URL") or []
    for key in ("source", "repository", "code", "homepage"):
        for u in urls:
            label, _, url = u.partition(",")
            if key in label.lower().replace(" ", ""):
                return url.strip()
    return (
        meta.get("Home-page")
        or (urls[0].partition(",")[2].strip() if urls else "")
        or f"https://pypi.org/project/{meta['Name']}/"
    )


def _top_level_owners() -> dict[str, md.Distribution]:
    """First path component of every installed file -> its distribution (from RECORD)."""
    owners: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        for f in dist.files or []:
            top = f.parts[0]
            if top.endswith((".dist-info", ".egg-info")) or top in ("..", "__pycache__"):
                continue
            owners.setdefault(top.removesuffix(".py"), dist)
    return owners


def _debian_package(lib_name: str) -> tuple[str, str, str, str] | None:
    """(package, version, licence summary, source package) of the Debian package providing this library."""
    try:
        out = subprocess.run(["dpkg", "-S", f"*/{lib_name}"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        pkg, _, path = line.partition(": ")
        if path.endswith("/" + lib_name):
            pkg = pkg.split(",")[0].split(":")[0]
            version, _, source = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version} ${source:Package}", pkg], capture_output=True, text=True, timeout=60
            ).stdout.partition(" ")
            copyright_file = Path("/usr/share/doc") / pkg / "copyright"
            licences: list[str] = []
            if copyright_file.is_file():
                for m in re.finditer(r"^License: *(\S.*)$", copyright_file.read_text(errors="replace"), re.M):
                    if m.group(1) not in licences:
                        licences.append(m.group(1))
            lic = ", ".join(licences[:4]) or f"see {copyright_file}"
            return pkg, version, f"{lic} (Debian: {copyright_file})", source or pkg
    return None


def _pyz_modules(work: Path | None) -> set[str]:
    """Top-level module names inside the executable's PYZ archive, from PyInstaller's TOC."""
    if work is None:
        return set()
    tocs = sorted(work.rglob("PYZ-*.toc"))
    if not tocs:
        return set()
    text = tocs[0].read_text()
    names = set(re.findall(r"\(\s*'([A-Za-z0-9_\.]+)'\s*,", text))
    if not names:
        try:
            names = {entry[0] for entry in ast.literal_eval(text)[-1]}
        except (ValueError, SyntaxError, IndexError, TypeError):
            names = set()
    return {n.split(".")[0] for n in names}


def attribute(bundle: Path, work: Path | None = None) -> tuple[list[Row], list[str]]:
    internal = bundle / "_internal"
    owners = _top_level_owners()
    stdlib = set(sys.stdlib_module_names)
    rows: list[Row] = []
    unknown: list[str] = []

    def add_dist(entry: str, dist: md.Distribution) -> None:
        name = dist.metadata["Name"]
        if name.lower().replace("_", "-") == "pixtools-desktop":
            rows.append(Row(entry, *PIXTOOLS[:1], dist.version, PIXTOOLS[2], PIXTOOLS[3]))
        else:
            rows.append(Row(entry, name, dist.version, _dist_licence(dist), _dist_source(dist)))

    dist_infos = {d.metadata["Name"].lower().replace("-", "_"): d for d in md.distributions()}
    for entry in sorted(internal.iterdir()):
        name = entry.name
        if entry.is_symlink():  # PyInstaller's top-level links to libraries inside a package folder
            target = entry.resolve()
            if target.is_relative_to(internal.resolve()):
                name = target.relative_to(internal.resolve()).parts[0]
        base = name.split(".")[0] if not name.endswith(".libs") else name
        if name.endswith(".dist-info"):
            dist = dist_infos.get(name.split("-")[0].lower().replace("-", "_"))
            if dist:
                add_dist(entry.name, dist)
            else:
                unknown.append(entry.name)
        elif (
            name in ("base_library.zip", "lib-dynload", "python3.11")
            or name.startswith(("libpython", "python3."))
            or base in stdlib
        ):
            rows.append(Row(name, *PYTHON))
        elif name in ("resources", "pixtools_desktop"):
            rows.append(Row(name, PIXTOOLS[0], "", PIXTOOLS[2], PIXTOOLS[3]))
        elif name == "weights":
            for w in sorted(entry.iterdir()):
                if w.name in WEIGHTS_LICENCES:
                    src, lic = WEIGHTS_LICENCES[w.name]
                    rows.append(Row(f"weights/{w.name}", "model weights", "", lic, src))
                else:
                    unknown.append(
                        f"weights/{w.name}: {NO_LICENCE.get(w.name, 'no known licence')}; not redistributable"
                    )
        elif name in ("THIRD-PARTY-NOTICES.txt",):
            continue
        elif name in owners or base in owners:
            add_dist(entry.name, owners.get(name) or owners[base])
        elif entry.is_file() and ".so" in name:
            deb = _debian_package(name)
            if deb:
                rows.append(
                    Row(name, f"Debian package {deb[0]}", deb[1], deb[2], "https://sources.debian.org/src/" + deb[3])
                )
            else:
                unknown.append(name)
        else:
            unknown.append(name)

    for mod in sorted(_pyz_modules(work) - stdlib):
        if mod in (
            "pixtools_desktop",
            "pyimod01_archive",
            "pyimod02_importers",
            "pyimod03_ctypes",
            "pyimod04_pywin32",
            "pyi_rth_inspect",
        ) or mod.startswith(("pyimod", "pyi_rth", "_pyi")):
            continue
        dist = owners.get(mod)
        if dist:
            add_dist(f"(archive) {mod}", dist)
        else:
            unknown.append(f"(archive) {mod}")
    return rows, unknown


def write_notices(bundle: Path, rows: list[Row], unknown: list[str]) -> Path:
    out = bundle / "THIRD-PARTY-NOTICES.txt"
    lines = [
        "PixTools Desktop: what this bundle carries, where it comes from, and its licence.",
        "Generated at build time by packaging/licences.py from the build environment's package metadata.",
        "Entries are top-level items of _internal/; '(archive)' entries are Python modules inside the",
        "executable's archive. PixTools itself is MIT-licensed. Qt (PySide6) is used under the LGPL-3.0:",
        "its libraries are separate files in _internal/PySide6/Qt/lib and may be replaced.",
        "Model weights: none are included unless listed below with their licence; the denoise model",
        "(cszn/DnCNN, no licence stated) is downloaded on first use with a sha256 check.",
        "",
    ]
    by_project: dict[tuple[str, str, str, str], list[str]] = {}
    for r in rows:
        by_project.setdefault((r.project, r.version, r.licence, r.source), []).append(r.entry)
    for (project, version, licence, source), entries in sorted(by_project.items(), key=lambda kv: kv[0][0].lower()):
        lines.append(f"{project} {version}".rstrip())
        lines.append(f"  licence: {licence}")
        lines.append(f"  source:  {source}")
        lines.append(f"  files:   {', '.join(entries)}")
        lines.append("")
    if unknown:
        lines.append("NOT ATTRIBUTED: " + ", ".join(unknown))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--work", type=Path, default=None, help="PyInstaller work folder (for the archive's modules)")
    ap.add_argument("--check", action="store_true", help="exit 1 if anything is not attributed")
    args = ap.parse_args()
    rows, unknown = attribute(args.bundle, args.work)
    out = write_notices(args.bundle, rows, unknown)
    print(f"licences: {len(rows)} entries attributed, {len(unknown)} not: {out}", file=sys.stderr)
    if unknown:
        print("not attributed: " + "; ".join(unknown), file=sys.stderr)
    return 1 if (unknown and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
