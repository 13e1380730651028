"""Regenerate the photo fixtures in this directory: `python tests/data/photos/make_fixtures.py`.

Deterministic (seeded drawing, no clock); the files are committed so tests never depend on
this script running, and re-running it with the same Pillow/libjpeg gives the same bytes.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational

HERE = Path(__file__).resolve().parent

# A village in Ludian county, Yunnan: 26.0712 N, 103.6542 E.
LATITUDE_DMS = (IFDRational(26, 1), IFDRational(4, 1), IFDRational(1632, 100))  # 26°4'16.32"
LONGITUDE_DMS = (IFDRational(103, 1), IFDRational(39, 1), IFDRational(1512, 100))  # 103°39'15.12"


def scene(size: tuple[int, int], seed: int, texture: float = 0.08) -> Image.Image:
    """A house-ish picture: gradients, shapes and a little grain, so JPEG has work to do."""
    rng = random.Random(seed)
    width, height = size
    ramp = Image.linear_gradient("L")  # 256x256, black at the top
    flip = seed % 2 == 1  # odd seeds light from the other side: a genuinely different layout
    red = ramp.rotate(90 if flip else -90).resize(size)
    green = ramp.resize(size)
    blue = Image.radial_gradient("L").resize(size)
    picture = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = x0 + rng.randrange(width // 20, width // 4)
        y1 = y0 + rng.randrange(height // 20, height // 4)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    # The house: walls, roof, door. Its side depends on the seed's parity.
    left = width // 10 if not flip else width // 2
    wall = (left, height // 2, left + width * 2 // 5, height * 9 // 10)
    draw.rectangle(wall, fill=(180, 150, 110), outline=(40, 30, 20), width=max(2, width // 300))
    draw.polygon(
        [
            (wall[0] - width // 30, wall[1]),
            ((wall[0] + wall[2]) // 2, height // 4),
            (wall[2] + width // 30, wall[1]),
        ],
        fill=(120, 40, 30),
    )
    door_x = (wall[0] + wall[2]) // 2
    draw.rectangle(
        (door_x - width // 30, wall[3] - height // 6, door_x + width // 30, wall[3]),
        fill=(60, 40, 20),
    )
    if texture:
        grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
        picture = Image.blend(picture, grain, texture)
    return picture


def jpeg(picture: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def visit_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "Mate 60"  # Model
    exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2026:11:20 10:15:00"  # DateTimeOriginal
    exif_ifd[0x9011] = "+08:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = LATITUDE_DMS
    gps[3] = "E"
    gps[4] = LONGITUDE_DMS
    gps[5] = b"\x00"  # above sea level
    gps[6] = IFDRational(1850, 1)
    return exif


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height zeros: kilobytes on disk, hundreds of MB decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def with_segments_after_soi(jpeg_bytes: bytes, segments: list[bytes]) -> bytes:
    return jpeg_bytes[:2] + b"".join(segments) + jpeg_bytes[2:]


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def fixed_date_profile(icc: bytes) -> bytes:
    """LittleCMS stamps the creation time into the ICC header (bytes 24-35); fix it so the
    fixtures come out byte-identical. The profile ID (84-99) is zeroed, meaning "not computed"."""
    fixed_date = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
    return icc[:24] + fixed_date + icc[36:84] + bytes(16) + icc[100:]


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    srgb = fixed_date_profile(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())

    # Stored landscape, shown portrait (orientation 6: rotate 90° clockwise to view).
    files["visit_gps.jpg"] = jpeg(
        scene((1200, 900), seed=1),
        quality=85,
        exif=visit_exif(orientation=6).tobytes(),
        icc_profile=srgb,
        comment="surveyor: 王芳, household 530621-0042",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
    )

    plain = io.BytesIO()
    text = PngInfo()
    text.add_text("Author", "surveyor 王芳", zip=False)
    scene((600, 450), seed=3, texture=0).save(plain, "PNG", pnginfo=text)
    files["visit_plain.png"] = plain.getvalue()

    webp = io.BytesIO()
    scene((800, 600), seed=5).save(webp, "WEBP", quality=75, exif=visit_exif(1).tobytes())
    files["visit.webp"] = webp.getvalue()

    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        heic = io.BytesIO()
        scene((640, 480), seed=7).save(heic, "HEIF", quality=50, exif=visit_exif(1).tobytes())
        files["visit.heic"] = heic.getvalue()
    except (ImportError, KeyError, OSError, ValueError) as exc:  # no HEVC encoder here
        print(f"skipped visit.heic: {exc}")

    whole = jpeg(scene((800, 600), seed=9), quality=85)
    files["truncated.jpg"] = whole[: len(whole) * 60 // 100]

    files["bomb.png"] = bomb_png(20_000, 20_000)  # 400 MP, ~50 KB
    files["zero.jpg"] = b""
    files["not_an_image.jpg"] = "这不是图片 — this is not a picture\n".encode()

    small_png = io.BytesIO()
    scene((320, 240), seed=11, texture=0).save(small_png, "PNG")
    files["png_as.jpg"] = small_png.getvalue()

    # One APP1 carries at most 65,533 bytes, so ~200 KB of EXIF means several Exif APP1s,
    # each a valid EXIF block with a big UserComment.
    base = jpeg(scene((160, 120), seed=13), quality=80)
    blocks = []
    for i in range(4):
        exif = Image.Exif()
        exif[0x010F] = "HUAWEI"
        exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + bytes([0x41 + i]) * 50_000  # UserComment
        blocks.append(app1(exif.tobytes()))
    files["huge_exif.jpg"] = with_segments_after_soi(base, blocks)

    gif = io.BytesIO()
    scene((64, 48), seed=15, texture=0).convert("P").save(gif, "GIF")
    files["gif.gif"] = gif.getvalue()

    same = scene((1024, 768), seed=20)
    files["same_scene_a.jpg"] = jpeg(same, quality=92)
    files["same_scene_b.jpg"] = jpeg(same.resize((640, 480), Image.Resampling.LANCZOS), quality=55)
    files["other_scene.jpg"] = jpeg(scene((1024, 768), seed=31), quality=85)
    return files


def main() -> None:
    total = 0
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        total += len(data)
        print(f"{name:20} {len(data):>9,} bytes")
    print(f"{'total':20} {total:>9,} bytes")


if __name__ == "__main__":
    main()
