"""settings.json: only what the user set is saved (never environment overrides), with a schema version."""

from __future__ import annotations

import json

from pixtools_desktop.core.settings import SCHEMA_VERSION, Settings, load_settings, save_settings, settings_path


def test_environment_overrides_are_never_persisted(monkeypatch, tmp_path):
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"workers": 3, "theme": "dark"}))
    monkeypatch.setenv("PIXTOOLS_WORKERS", "1")
    monkeypatch.setenv("PIXTOOLS_OUTPUT_DIR", str(tmp_path / "once"))
    s = load_settings()
    assert (s.workers, s.output_dir, s.theme) == (1, str(tmp_path / "once"), "dark")  # the overrides apply
    s.naming_template = "{stem}-{n}.{ext}"  # what the user changed in this session
    save_settings(s)
    saved = json.loads(path.read_text())
    assert saved["workers"] == 3 and "output_dir" not in saved  # the file's value kept, the override not written
    assert saved["naming_template"] == "{stem}-{n}.{ext}" and saved["theme"] == "dark"
    assert saved["schema_version"] == SCHEMA_VERSION
    s.workers = 6  # a change the user makes while the override is active is theirs: saved
    save_settings(s)
    assert json.loads(path.read_text())["workers"] == 6
    monkeypatch.delenv("PIXTOOLS_WORKERS")
    monkeypatch.delenv("PIXTOOLS_OUTPUT_DIR")
    again = load_settings()
    assert (again.workers, again.output_dir, again.naming_template) == (6, None, "{stem}-{n}.{ext}")


def test_only_non_default_values_are_written_for_new_settings():
    s = Settings(theme="dark")
    save_settings(s)
    saved = json.loads(settings_path().read_text())
    assert saved == {"schema_version": SCHEMA_VERSION, "theme": "dark"}
    assert load_settings().theme == "dark"


def test_version_0_files_are_migrated():
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"output_dir": "  ", "backend": "Remote", "backend_url": "http://127.0.0.1:9", "unknown_key": 1})
    )
    s = load_settings()
    assert s.output_dir is None and s.backend == "remote"
    save_settings(s)
    saved = json.loads(path.read_text())
    assert saved["schema_version"] == SCHEMA_VERSION and saved["backend"] == "remote"
    assert "output_dir" not in saved or saved["output_dir"] is None


def test_a_corrupt_or_odd_file_falls_back_to_defaults():
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[1, 2")
    assert load_settings() == Settings()
    path.write_text("[1, 2]")
    assert load_settings() == Settings()
