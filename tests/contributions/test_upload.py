"""Unit tests of contributions.upload (no database): formats that must pass, names, hashes."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from facecommons.contributions.upload import (
    UploadRejected,
    normalise_upload,
    perceptual_hash,
    sanitise_filename,
    sniff_format,
)


def photo(w=640, h=480, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, size=(h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)


def encode(img, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _bits(a: str, b: str) -> int:
    """Hamming distance of two hex hashes."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def norm(data: bytes, name="a.jpg", ctype="image/jpeg"):
    return normalise_upload(io.BytesIO(data), filename=name, content_type=ctype)


@pytest.mark.parametrize(("kw", "label"), [
    ({"progressive": True}, "progressive JPEG (several scans, tables between them)"),
    ({"restart_marker_rows": 1}, "JPEG with restart markers"),
    ({"subsampling": 0, "quality": 100}, "4:4:4 JPEG at quality 100 (many 0xFF bytes)"),
])
def test_jpeg_variants_accepted(kw, label):
    out = norm(encode(photo(), "JPEG", **kw))
    assert (out.width, out.height) == (640, 480), label


def test_greyscale_and_palette_and_interlaced_png_accepted():
    assert norm(encode(photo().convert("L"), "JPEG")).width == 640
    assert norm(encode(photo().convert("P"), "PNG"), "a.png", "image/png").source_format == "PNG"
    assert norm(encode(photo(), "PNG", interlace=1), "a.png", "image/png").height == 480


def test_mpo_phone_jpeg_with_second_picture_is_a_still_photo():
    """Phones write MPO (a JPEG followed by a depth or gain-map picture): the first is the photo."""
    first, second = photo(seed=1), photo(320, 240, seed=2)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    out = norm(data, "IMG.JPG", "image/jpeg")
    assert (out.width, out.height) == (640, 480)


def test_stored_bytes_and_hashes():
    import hashlib

    data = encode(photo(), "JPEG")
    out = norm(data)
    assert out.source_sha256 == hashlib.sha256(data).hexdigest()
    assert out.sha256 == hashlib.sha256(out.jpeg).hexdigest()
    assert out.storage_key == f"originals/{out.sha256[:2]}/{out.sha256}.jpg"
    # The perceptual hash: the same picture saved again lands within a few bits, another picture far.
    again, other = norm(encode(photo(), "JPEG", quality=60)), norm(encode(photo(seed=5), "JPEG"))
    assert len(out.phash) == 16 and _bits(out.phash, again.phash) <= 4 and _bits(out.phash, other.phash) >= 16
    assert out.byte_size == len(out.jpeg)
    # Deterministic: the same upload normalises to the same bytes (content addressing works).
    assert norm(data).sha256 == out.sha256


@pytest.mark.parametrize("size", [(512, 512), (3000, 2000), (4032, 3024)])
def test_perceptual_hash_close_to_plain_phash(size, astronaut_image):
    img = astronaut_image.resize(size)
    fast = imagehash.hex_to_hash(perceptual_hash(img))
    assert fast - imagehash.phash(img) <= 2


def test_near_duplicates_have_close_hashes_and_different_photos_do_not(astronaut_image):
    a = imagehash.hex_to_hash(norm(encode(astronaut_image, "JPEG", quality=95)).phash)
    b = imagehash.hex_to_hash(norm(encode(astronaut_image.resize((400, 400)), "JPEG", quality=70)).phash)
    c = imagehash.hex_to_hash(norm(encode(photo(512, 512, seed=5), "JPEG")).phash)
    assert a - b <= 6 < a - c


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd.jpg", "passwd.jpg"),
    ("C:\\Users\\me\\Pictures\\selfie.JPG", "selfie.JPG"),
    ("  .hidden.jpg  ", "hidden.jpg"),
    ("a\x00b\nc.jpg", "abc.jpg"),
    ("<script>.jpg", "script.jpg"),
    ("", "photo"),
    ("..", "photo"),
    ("x" * 300 + ".jpeg", "x" * 95 + ".jpeg"),
])
def test_sanitise_filename(raw, expected):
    assert sanitise_filename(raw) == expected


def test_webcam_sized_photos_are_accepted_by_default():
    """200x200 is what webcams and messaging apps send; the refusal bar is below it (128 px),
    and one pixel under the bar is refused."""
    out = norm(encode(photo(200, 200), "JPEG", quality=85))
    assert (out.width, out.height) == (200, 200)
    with pytest.raises(UploadRejected) as exc:
        norm(encode(photo(127, 300), "JPEG"))
    assert exc.value.code == "too_small" and "128 px" in exc.value.message


def test_limits_follow_settings(settings):
    settings.UPLOAD_MIN_SHORT_SIDE = 500
    with pytest.raises(UploadRejected) as exc:
        norm(encode(photo(), "JPEG"))
    assert exc.value.code == "too_small" and "500 px" in exc.value.message
    settings.UPLOAD_MIN_SHORT_SIDE = 128
    settings.UPLOAD_MAX_MEGAPIXELS = 0.2
    with pytest.raises(UploadRejected) as exc:
        norm(encode(photo(), "JPEG"))
    assert exc.value.status == 413


def test_sniff_names_common_wrong_formats():
    for data, name in [(b"GIF89a....", "GIF"), (b"%PDF-1.7", "PDF"), (b"\x00\x00\x00\x18ftypmp42", "Video")]:
        with pytest.raises(UploadRejected) as exc:
            sniff_format(data + b"\0" * 64)
        assert exc.value.status == 415 and name in exc.value.message


def test_heic_with_rotation_stored_upright():
    """HEIC carries the rotation as a transform (irot) that libheif applies: upright, once."""
    import pillow_heif
    from PIL import ImageDraw

    pillow_heif.register_heif_opener()
    upright = Image.new("RGB", (300, 400), (128, 128, 128))
    ImageDraw.Draw(upright).rectangle([0, 0, 99, 99], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(upright.transpose(Image.Transpose.ROTATE_90), "HEIF", exif=exif.tobytes(), quality=95)
    out = norm(data, "IMG_0002.HEIC", "image/heif")
    stored = Image.open(io.BytesIO(out.jpeg))
    assert stored.size == (300, 400)
    r, g, b = stored.getpixel((50, 50))
    assert r > 200 and g < 60 and b < 60
    assert len(stored.getexif()) == 0
