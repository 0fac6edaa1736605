"""Named presets: what to do to each photo (operations and their parameters).

Shipped presets are read-only; the user's own live in `Settings.presets` as
plain dicts `{"name", "operations", "params"}` so they survive restarts with
the rest of the settings. A user preset with a shipped preset's name hides
the shipped one (that is how "edit" of a default works).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.settings import Settings


@dataclass
class Preset:
    name: str
    operations: list[str]
    params: dict[str, dict] = field(default_factory=dict)
    builtin: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "operations": list(self.operations), "params": copy.deepcopy(self.params)}


BUILTIN_PRESETS: tuple[Preset, ...] = (
    # A 1920 px box: the desktop fits within it (tall photos too) and never enlarges (ops.py resize.enlarge).
    Preset(
        "Web (WebP 80, 1920 px)", ["webp"], {"webp": {"quality": 80, "resize": {"width": 1920, "height": 1920}}}, True
    ),
    Preset(
        "Denoise",
        ["denoise"],
        {"denoise": {"model": "auto", "sigma": "auto", "mode": "default", "strength": 1.0, "format": "png"}},
        True,
    ),  # model: denoise_realistic.py (README)
    Preset("Archive (PNG + metadata)", ["png", "metadata"], {}, True),
    Preset("Email (JPG 85, 1280 px)", ["jpg"], {"jpg": {"quality": 85, "resize": {"width": 1280}}}, True),
    Preset("Modern (AVIF)", ["avif"], {}, True),
)


def all_presets(settings: Settings) -> list[Preset]:
    """Shipped presets first (unless overridden), then the user's, in saved order."""
    user: list[Preset] = []
    for raw in settings.presets or []:
        try:
            user.append(Preset(str(raw["name"]), list(raw["operations"]), dict(raw.get("params") or {})))
        except (KeyError, TypeError):
            continue  # a hand-edited, broken entry is ignored, not fatal
    names = {p.name for p in user}
    return [p for p in BUILTIN_PRESETS if p.name not in names] + user


def find_preset(settings: Settings, name: str) -> Preset | None:
    return next((p for p in all_presets(settings) if p.name == name), None)


def save_preset(settings: Settings, preset: Preset) -> None:
    """Add or replace a user preset (validated like a job request)."""
    name = preset.name.strip()
    if not name:
        raise ValidationError("A preset needs a name.")
    validate_request(preset.operations, preset.params, None)
    entry = Preset(name, preset.operations, preset.params).to_json()
    presets = [p for p in (settings.presets or []) if p.get("name") != name]
    presets.append(entry)
    settings.presets = presets


def delete_preset(settings: Settings, name: str) -> bool:
    """Delete a user preset; shipped ones cannot be deleted (returns False)."""
    before = len(settings.presets or [])
    settings.presets = [p for p in (settings.presets or []) if p.get("name") != name]
    return len(settings.presets) != before
