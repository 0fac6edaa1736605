"""`pixtools process` end to end on real files: outputs, summary, exit codes, bad inputs."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from PIL import Image

from tests.conftest import require_testdata


def _bad_corpus(folder: Path, good: Path) -> dict[str, Path]:
    """The bad inputs a real batch meets; each must fail alone, with a message."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    files["empty"] = folder / "empty.jpg"
    files["empty"].write_bytes(b"")
    data = good.read_bytes()
    files["truncated_png"] = folder / "truncated.png"
    files["truncated_png"].write_bytes(data[: len(data) // 3])
    jpg = folder / "real.jpg"
    Image.open(good).convert("RGB").save(jpg, quality=90)
    files["truncated_jpg"] = folder / "truncated.jpg"
    files["truncated_jpg"].write_bytes(jpg.read_bytes()[:2000])
    jpg.unlink()
    files["text"] = folder / "text.jpg"
    files["text"].write_text("hello, this is not a photo\n" * 20)
    files["html"] = folder / "page.jpg"
    files["html"].write_text("<!DOCTYPE html><html><body>404 not found</body></html>")

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    # A decompression bomb: 100000x100000 declared, a few KB of zlib that would inflate to 30 GB.
    idat = zlib.compressobj(9).compress(b"\0" * 4_000_000)
    files["bomb"] = folder / "bomb.png"
    files["bomb"].write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )
    return files


def test_batch_with_bad_files_completes_the_good_ones(run_cli, tmp_path, pixtools_home):
    good = require_testdata("testsets", "CBSD68", "101085.png")
    bad = _bad_corpus(tmp_path / "in", good)
    ok1 = tmp_path / "in" / "ok1.png"
    Image.open(good).save(ok1)
    cmyk = tmp_path / "in" / "cmyk.jpg"
    Image.open(good).convert("CMYK").save(cmyk)
    import numpy as np

    deep = tmp_path / "in" / "deep16.png"
    Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 21).save(deep)
    pal = tmp_path / "in" / "palette.png"
    p_img = Image.new("P", (40, 30), 1)
    p_img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    p_img.paste(0, (0, 0, 20, 30))
    p_img.save(pal, transparency=0)
    gif = tmp_path / "in" / "anim.gif"
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = tmp_path / "out"
    proc = run_cli("process", str(tmp_path / "in"), "--ops", "webp,tiff,metadata", "--out", str(out), "--json")
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    by_name = {Path(j["input"]).name: j for j in summary["jobs"]}
    assert by_name["ok1.png"]["status"] == "COMPLETED"
    assert by_name["cmyk.jpg"]["status"] == "COMPLETED"
    with Image.open(by_name["cmyk.jpg"]["outputs"][0]["path"]) as im:
        assert im.mode in ("RGB", "RGBA")
    outs = {Path(j["input"]).name: {o["op"]: o["path"] for o in j["outputs"]} for j in summary["jobs"]}
    with Image.open(outs["deep16.png"]["tiff"]) as im:
        assert im.mode.startswith("I;16"), "16-bit grey stays 16-bit in TIFF"
        assert im.getextrema()[1] > 255
    with Image.open(outs["palette.png"]["webp"]) as im:
        assert im.mode == "RGBA" and im.getpixel((5, 5))[3] == 0 and im.getpixel((30, 5))[3] == 255
    assert by_name["anim.gif"]["status"] == "COMPLETED"
    assert any("frame" in w for w in by_name["anim.gif"]["warnings"]), by_name["anim.gif"]["warnings"]
    for key, path in bad.items():
        job = by_name[path.name]
        assert job["status"] == "FAILED", key
        msg = job["error_message"]
        assert msg and "Traceback" not in msg and len(msg) < 400, (key, msg)
    assert "empty" in by_name["empty.jpg"]["error_message"].lower()
    assert (
        "megapixel" in by_name["bomb.png"]["error_message"].lower()
        or "too large" in by_name["bomb.png"]["error_message"].lower()
    )
    assert summary["done"] == 5 and summary["failed"] == len(bad)
    assert not list(out.glob(".pixtools-tmp-*"))


def test_folder_recursion_skipped_files_and_text_summary(run_cli, photo_dir, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("process", str(photo_dir), "--ops", "jpg", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert len(list(out.glob("*.jpg"))) == 4  # sub/ not entered without --recursive
    assert "4 done, 0 failed" in proc.stdout and "skip" in proc.stdout and "notes.txt" in proc.stdout
    proc = run_cli("process", str(photo_dir), "--ops", "jpg", "--out", str(tmp_path / "out2"), "--recursive")
    assert proc.returncode == 0 and len(list((tmp_path / "out2").glob("*.jpg"))) == 6


def test_invalid_request_is_exit_2_with_the_api_message(run_cli, photo_dir):
    proc = run_cli("process", str(photo_dir), "--ops", "sepia")
    assert proc.returncode == 2
    assert "unknown operation 'sepia'; valid operations: jpg, png, webp, avif, denoise, metadata, tiff" in proc.stderr
    proc = run_cli("process", str(photo_dir), "--ops", "png", "--params", '{"png":{"quality":3}}')
    assert proc.returncode == 2 and "only supported for jpg/webp" in proc.stderr


def test_same_format_is_a_reencode_locally(run_cli, photo_dir, tmp_path):
    """Desktop profile: --ops png over PNGs re-encodes (resize applied); only the API refuses same-format."""
    proc = run_cli(
        "process",
        str(photo_dir),
        "--ops",
        "png",
        "--params",
        '{"png":{"resize":{"width":80}}}',
        "--out",
        str(tmp_path / "o"),
        "--json",
    )
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0 and summary["done"] == 4 and not summary["rejected"], proc.stdout
    for job in summary["jobs"]:
        [out] = job["outputs"]
        assert (out["width"], out["height"], out["source_width"]) == (80, 60, 160)
        assert job["error_code"] is None


def test_rerun_skips_finished_work_and_jobs_commands(run_cli, photo_dir, tmp_path):
    out = tmp_path / "out"
    run_cli("process", str(photo_dir), "--ops", "webp", "--out", str(out), check=True)
    again = run_cli("process", str(photo_dir), "--ops", "webp", "--out", str(out), "--json", check=True)
    summary = json.loads(again.stdout)
    assert summary["already_done"] == 4 and summary["done"] == 0
    assert len(list(out.iterdir())) == 4
    listing = run_cli("jobs", "list", "--json", check=True)
    jobs = json.loads(listing.stdout)
    assert len(jobs) == 4 and all(j["status"] == "COMPLETED" for j in jobs)
    shown = run_cli("jobs", "show", jobs[0]["job_id"], check=True)
    assert json.loads(shown.stdout)["job_id"] == jobs[0]["job_id"]


def test_a_relative_out_folder_is_recorded_as_an_absolute_one(run_cli, photo_dir, tmp_path):
    """Jobs outlive the shell's folder: `jobs list` elsewhere, reruns, the window's own-output check."""
    proc = run_cli("process", str(photo_dir), "--ops", "jpg", "--out", "rel out", "--json", cwd=tmp_path, check=True)
    paths = [o["path"] for job in json.loads(proc.stdout)["jobs"] for o in job["outputs"]]
    assert len(paths) == 4 and all(Path(p).is_absolute() and Path(p).parent == tmp_path / "rel out" for p in paths)
    listing = json.loads(run_cli("jobs", "list", "--json", check=True).stdout)
    assert {o["path"] for j in listing for o in j["outputs"]} == set(paths)


def test_retry_failed_after_fixing_the_file(run_cli, tmp_path):
    good = require_testdata("testsets", "CBSD68", "101085.png")
    broken = tmp_path / "in" / "later.png"
    broken.parent.mkdir()
    broken.write_bytes(good.read_bytes()[:500])
    proc = run_cli("process", str(broken), "--ops", "jpg", "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    broken.write_bytes(good.read_bytes())  # the user fixes the file
    retry = run_cli("jobs", "retry-failed")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "1 job(s) queued again" in retry.stdout
    assert (tmp_path / "o" / "later_jpg.jpg").exists()


def test_health_is_api_shaped(run_cli):
    proc = run_cli("health")
    report = json.loads(proc.stdout)
    assert set(report) == {"status", "dependencies"}
    assert report["dependencies"]["database"] == "ok"
    assert report["status"] in ("healthy", "unhealthy")


def test_logs_are_json_with_request_and_job_ids(run_cli, photo_dir, tmp_path, pixtools_home):
    proc = run_cli("process", str(photo_dir), "--ops", "jpg", "--out", str(tmp_path / "o"), "--json", check=True)
    request_id = json.loads(proc.stdout)["request_id"]
    lines = [json.loads(ln) for ln in (pixtools_home / "logs" / "pixtools.log").read_text().splitlines()]
    mine = [rec for rec in lines if rec.get("request_id") == request_id]
    assert any(rec["message"] == "job completed" and rec["job_id"] for rec in mine)
    assert {"timestamp", "level", "name", "message", "request_id", "job_id"} <= set(mine[0])


def test_progress_bar_only_at_a_terminal(run_cli, photo_dir, tmp_path, pixtools_home):
    """A pipe or log file gets the summary without the bar's carriage-return redraws; a terminal gets the bar."""
    import os
    import pty
    import subprocess
    import sys

    piped = run_cli("process", str(photo_dir), "--ops", "webp", "--out", str(tmp_path / "a"))
    assert piped.returncode == 0 and "img/s" not in piped.stderr and "\r" not in piped.stderr, piped.stderr

    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pixtools_desktop", "process", str(photo_dir), "--ops", "webp"]
            + ["--out", str(tmp_path / "b")],
            stdout=subprocess.PIPE,
            stderr=follower,
            env={**os.environ, "PIXTOOLS_HOME": str(pixtools_home)},
            timeout=120,
        )
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    assert b"img/s" in seen, seen[-500:]


def test_a_phone_heic_photo_through_the_cli(run_cli, tmp_path):
    """HEIC in (stored sideways with orientation 6, as phones write it): an upright JPEG with the camera EXIF."""
    import pillow_heif

    upright = Image.open(require_testdata("testsets", "CBSD68", "101085.png")).convert("RGB")  # 321 x 481
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = 6, "Apple", "iPhone 15"
    src = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(upright.transpose(Image.Transpose.ROTATE_90)).save(src, quality=90, exif=exif.tobytes())
    proc = run_cli("process", str(src), "--ops", "jpg,metadata", "--out", str(tmp_path / "o"), "--json", check=True)
    [job] = json.loads(proc.stdout)["jobs"]
    [out] = [o for o in job["outputs"] if o["op"] == "jpg"]
    with Image.open(out["path"]) as im:
        assert im.size == (321, 481) and im.getexif().get(0x0110) == "iPhone 15"
        assert im.getexif().get(0x0112) in (None, 1)
