"""Draw the PixTools icon (neobrutalist: flat colours, thick black lines, hard shadow).

Generated rather than hand-drawn so it can be re-made at any size without a
design tool: `python packaging/icons/make_icon.py` rewrites pixtools.png
(256 px) and pixtools.ico (16-256 px, for the Inno Setup installer);
PyInstaller turns the PNG into the executables' .ico / .icns itself.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLACK = (17, 17, 17, 255)


def draw_icon(size: int = 256) -> Image.Image:
    s = size / 256
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    line = max(2, round(10 * s))
    # hard offset shadow, then the card
    d.rounded_rectangle(
        (round(28 * s), round(28 * s), round(248 * s), round(248 * s)), radius=round(18 * s), fill=BLACK
    )
    d.rounded_rectangle(
        (round(8 * s), round(8 * s), round(228 * s), round(228 * s)),
        radius=round(18 * s),
        fill=(255, 214, 10, 255),
        outline=BLACK,
        width=line,
    )
    # the photo: cyan sky, pink sun, lime hills
    box = (round(40 * s), round(48 * s), round(196 * s), round(176 * s))
    d.rectangle(box, fill=(80, 220, 255, 255), outline=BLACK, width=line)
    d.ellipse(
        (round(140 * s), round(66 * s), round(176 * s), round(102 * s)),
        fill=(255, 92, 170, 255),
        outline=BLACK,
        width=max(2, line // 2),
    )
    d.polygon(
        [
            (box[0] + line // 2, box[3] - line // 2),
            (round(92 * s), round(100 * s)),
            (round(140 * s), box[3] - line // 2),
        ],
        fill=(170, 240, 60, 255),
        outline=BLACK,
        width=max(2, line // 2),
    )
    d.polygon(
        [
            (round(112 * s), box[3] - line // 2),
            (round(150 * s), round(124 * s)),
            (box[2] - line // 2, box[3] - line // 2),
        ],
        fill=(120, 200, 40, 255),
        outline=BLACK,
        width=max(2, line // 2),
    )
    d.rectangle(box, outline=BLACK, width=line)
    # the "processed" bar under the photo
    d.rectangle((round(40 * s), round(190 * s), round(196 * s), round(206 * s)), fill=BLACK)
    d.rectangle((round(44 * s), round(194 * s), round(150 * s), round(202 * s)), fill=(255, 255, 255, 255))
    return img


if __name__ == "__main__":
    out = Path(__file__).with_name("pixtools.png")
    icon = draw_icon(256)
    icon.save(out, optimize=True)
    icon.save(out.with_suffix(".ico"), sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print(out, out.with_suffix(".ico"))
