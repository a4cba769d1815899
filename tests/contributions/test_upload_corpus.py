"""The hostile-upload corpus: every kind of bad (or awkward) file, through the real API.

Each case states the expected HTTP status and a fragment of the human message. After every
refusal nothing is left in storage and no row exists; accepted awkward files (CMYK, 16-bit,
HEIC, odd names) are checked for what was stored.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageDraw

from facecommons.common.storage import private_storage
from facecommons.contributions.models import Contribution
from tests.contributions.conftest import list_storage
from tests.factories import DEFAULT_CATEGORIES

pillow_heif.register_heif_opener()
pytestmark = pytest.mark.django_db
MB = 1024 * 1024


# --- builders ---------------------------------------------------------------------------

def photo(w: int = 400, h: int = 500, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, size=(h // 10 + 1, w // 10 + 1, 3), dtype=np.uint8)
    return Image.fromarray(arr).resize((w, h), Image.Resampling.BILINEAR)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg(w=400, h=500, seed=0, **kw) -> bytes:
    return encode(photo(w, h, seed), "JPEG", quality=90, **kw)


def png(w=400, h=500, seed=0, **kw) -> bytes:
    return encode(photo(w, h, seed), "PNG", **kw)


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def png_raw(w: int, h: int, *, depth: int = 8, color: int = 2, rows: bytes | None = None, extra: bytes = b"") -> bytes:
    """A PNG written by hand (any declared size, 16-bit RGB, extra chunks)."""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    if rows is None:
        rows = b""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def png_16bit_rgb(w=300, h=300) -> bytes:
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            v = int(65535 * x / (w - 1))
            rows += struct.pack(">HHH", v, 65535 - v, (y * 65535) // (h - 1))
    return png_raw(w, h, depth=16, color=2, rows=bytes(rows))


def png_16bit_grey(w=300, h=300) -> bytes:
    arr = np.tile(np.linspace(0, 65535, w, dtype=np.uint16), (h, 1))
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    return encode(img, "PNG")


def cmyk_jpeg() -> bytes:
    img = Image.new("CMYK", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([0, 0, 199, 399], fill=(0, 255, 255, 0))  # red on the left half
    return encode(img, "JPEG", quality=95)


def animated(fmt: str) -> bytes:
    frames = [photo(300, 300, seed=i) for i in range(3)]
    kw = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    return encode(frames[0], fmt, **kw)


def bomb_png() -> bytes:
    """60000 x 60000 declared (3.6 gigapixels) in a few hundred bytes: never decode it."""
    row = b"\x00" + b"\x00" * 3 * 60000
    return png_raw(60000, 60000, rows=row * 2)


def heic(w=400, h=500) -> bytes:
    return encode(photo(w, h), "HEIF", quality=90)


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("evil.html", "<html><script>alert(1)</script></html>")
    return buf.getvalue()


def jpeg_with_comment(comment: bytes) -> bytes:
    data = jpeg(seed=7)
    seg = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + seg + data[2:]


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# name, bytes factory, filename, content type, expected status, code, message fragment
CASES = [
    ("empty file", lambda: b"", "me.jpg", "image/jpeg", 400, "empty_file", "empty"),
    ("random bytes", lambda: bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)), "me.jpg",
     "image/jpeg", 415, "unsupported_format", "not an image we recognise"),
    ("text renamed .jpg", lambda: b"Dear diary, today I uploaded a text file.\n" * 20, "me.jpg", "image/jpeg", 415,
     "unsupported_format", "text, not a photo"),
    ("HTML renamed .png", lambda: b"<!DOCTYPE html><html><body>hi</body></html>", "me.png", "image/png", 415,
     "unsupported_format", "text"),
    ("SVG", lambda: SVG, "me.svg", "image/svg+xml", 415, "unsupported_format", "SVG"),
    ("SVG renamed .jpg", lambda: SVG, "me.jpg", "image/jpeg", 415, "unsupported_format", "SVG"),
    ("PDF", lambda: PDF, "me.pdf", "application/pdf", 415, "unsupported_format", "PDF"),
    ("animated GIF", lambda: animated("GIF"), "me.gif", "image/gif", 415, "unsupported_format", "GIF"),
    ("BMP", lambda: encode(photo(), "BMP"), "me.bmp", "image/bmp", 415, "unsupported_format", "BMP"),
    ("TIFF", lambda: encode(photo(), "TIFF"), "me.tif", "image/tiff", 415, "unsupported_format", "TIFF"),
    ("AVIF", lambda: encode(photo(), "AVIF"), "me.avif", "image/avif", 415, "unsupported_format", "AVIF"),
    ("animated WebP", lambda: animated("WEBP"), "me.webp", "image/webp", 400, "animated", "Animated"),
    ("APNG", lambda: animated("PNG"), "me.png", "image/png", 400, "animated", "Animated"),
    ("HEIC sequence", lambda: encode(photo(300, 300), "HEIF", save_all=True, append_images=[photo(300, 300, 1)]),
     "me.heic", "image/heic", 400, "animated", "single still photo"),
    ("truncated JPEG", lambda: jpeg()[:6000], "me.jpg", "image/jpeg", 400, "truncated", "incomplete"),
    ("JPEG without end marker", lambda: jpeg()[:-2], "me.jpg", "image/jpeg", 400, "truncated", "incomplete"),
    ("truncated PNG", lambda: png()[:3000], "me.png", "image/png", 400, "truncated", "incomplete"),
    ("corrupt PNG (bad checksum)", lambda: (lambda d: d[:200] + bytes([d[200] ^ 0xFF]) + d[201:])(png()), "me.png",
     "image/png", 400, "corrupt", "damaged"),
    ("corrupt JPEG segment", lambda: (lambda d: d[:4] + b"\x00\x01" + d[6:])(jpeg()), "me.jpg", "image/jpeg", 400,
     "corrupt", "damaged"),
    ("file over 25 MB", lambda: jpeg() + b"\0" * (25 * MB), "me.jpg", "image/jpeg", 413, "file_too_large",
     "at most 25 MB"),
    ("decompression bomb PNG (3.6 gigapixels declared)", bomb_png, "me.png", "image/png", 413, "too_many_pixels",
     "at most 50 megapixels"),
    ("56 megapixels declared (just over the limit)", lambda: png_raw(8000, 7000, rows=b"\x00" * 24001),
     "me.png", "image/png", 413, "too_many_pixels", "56 megapixels"),
    ("too small (100x150)", lambda: jpeg(100, 150), "me.jpg", "image/jpeg", 400, "too_small", "at least 128 px"),
    ("absurd aspect (256x20000)", lambda: encode(Image.new("RGB", (256, 20000), (90, 90, 90)), "PNG"), "me.png",
     "image/png", 400, "bad_aspect_ratio", "too long and narrow"),
    ("zero-sized declared PNG", lambda: png_raw(0, 0, rows=b""), "me.png", "image/png", 400, "corrupt", "damaged"),
    ("polyglot JPEG + ZIP", lambda: jpeg() + zip_bytes(), "me.jpg", "image/jpeg", 400, "polyglot", "hides another"),
    ("polyglot JPEG + HTML", lambda: jpeg() + b"<html><body onload=alert(1)>x</body></html>", "me.jpg",
     "image/jpeg", 400, "polyglot", "hides another"),
    ("polyglot PNG + PHP", lambda: png() + b"<?php system($_GET['c']); ?>", "me.png", "image/png", 400, "polyglot",
     ""),
    ("script inside a JPEG comment", lambda: jpeg_with_comment(b"<script>alert(document.cookie)</script>"),
     "me.jpg", "image/jpeg", 400, "polyglot", "script"),
    ("ZIP with a JPEG in front of its directory", lambda: (lambda z: jpeg() + z)(zip_bytes()), "me.jpeg",
     "image/jpeg", 400, "polyglot", ""),
    ("PNG with a 2 MB text chunk", lambda: png_raw(300, 300, rows=(b"\x00" + b"\x80" * 900) * 300,
                                                    extra=png_chunk(b"tEXt", b"Comment\x00" + b"A" * (2 * MB))),
     "me.png", "image/png", 400, "metadata_too_large", "metadata"),
    ("declared image/png, content JPEG", jpeg, "me.jpg", "image/png", 400, "content_mismatch", "sent as image/png"),
    ("declared image/gif, content JPEG", jpeg, "me.jpg", "image/gif", 415, "unsupported_format", "image/gif"),
    ("extension .jpg, content PNG", png, "me.jpg", "image/jpeg", 400, "content_mismatch", "file name says .jpg"),
    ("extension .exe, content JPEG", jpeg, "me.exe", "application/octet-stream", 400, "content_mismatch", ".exe"),
]


def post(client, data: bytes, name: str, ctype: str):
    return client.post("/api/v1/contributions/", {
        "image": SimpleUploadedFile(name, data, content_type=ctype),
        "categories": json.dumps(DEFAULT_CATEGORIES),
    }, format="multipart")


@pytest.fixture
def client(make_user, client_for):
    return client_for(make_user())


@pytest.mark.parametrize(("label", "factory", "name", "ctype", "status", "code", "fragment"), CASES,
                         ids=[c[0] for c in CASES])
def test_hostile_upload_refused(client, private_media, label, factory, name, ctype, status, code, fragment):
    resp = post(client, factory(), name, ctype)
    assert resp.status_code == status, (label, resp.content[:300])
    err = resp.json()["error"]
    assert err["code"] == code, err
    assert fragment in err["message"], err
    assert len(err["message"]) > 15  # a sentence a person understands
    assert list_storage(private_media) == []
    assert Contribution.objects.count() == 0


def test_corpus_has_at_least_20_kinds():
    assert len(CASES) >= 20


def stored_image(c: Contribution) -> tuple[Image.Image, bytes]:
    with private_storage().open(c.files.get(variant="original").key, "rb") as fh:
        data = fh.read()
    return Image.open(io.BytesIO(data)), data


def accept(client, data: bytes, name: str, ctype: str) -> Contribution:
    resp = post(client, data, name, ctype)
    assert resp.status_code == 201, resp.content[:300]
    return Contribution.objects.get(pk=resp.json()["id"])


def test_cmyk_jpeg_accepted_as_rgb(client):
    c = accept(client, cmyk_jpeg(), "cmyk.jpg", "image/jpeg")
    img, _ = stored_image(c)
    assert img.mode == "RGB" and img.size == (400, 400)
    r, g, b = img.getpixel((100, 200))
    assert r > 200 and g < 60 and b < 60, (r, g, b)  # the red half is red, not inverted
    assert min(img.getpixel((300, 200))) > 200  # the white half is white


def test_cmyk_jpeg_with_icc_profile_converted(client):
    """An embedded profile is honoured: an sRGB-tagged photo keeps its colours."""
    img = Image.new("RGB", (300, 300), (30, 120, 200))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    c = accept(client, encode(img, "JPEG", quality=95, icc_profile=icc), "icc.jpg", "image/jpeg")
    out, raw = stored_image(c)
    assert "icc_profile" not in out.info
    assert all(abs(a - b) <= 6 for a, b in zip(out.getpixel((150, 150)), (30, 120, 200), strict=True))


def test_16bit_grey_png_accepted_scaled_to_8bit(client):
    c = accept(client, png_16bit_grey(), "deep.png", "image/png")
    img, _ = stored_image(c)
    assert img.mode == "RGB"
    left, mid, right = (img.getpixel((x, 150))[0] for x in (2, 150, 297))
    assert left < 15 and 110 < mid < 145 and right > 240, (left, mid, right)  # a gradient, not clipped


def test_16bit_rgb_png_accepted(client):
    c = accept(client, png_16bit_rgb(), "deep-rgb.png", "image/png")
    img, _ = stored_image(c)
    assert img.mode == "RGB" and img.size == (300, 300)
    r, g, _b = img.getpixel((290, 10))
    assert r > 230 and g < 25


def test_heic_accepted(client):
    c = accept(client, heic(), "IMG_0001.HEIC", "image/heic")
    img, _ = stored_image(c)
    assert c.original_format == "HEIF" and img.format == "JPEG" and img.size == (400, 500)


@pytest.mark.parametrize(("fmt", "name", "ctype"), [
    ("PNG", "a.png", "image/png"), ("WEBP", "a.webp", "image/webp"), ("JPEG", "a.jpeg", "application/octet-stream"),
    ("JPEG", "blob", ""),
])
def test_plain_formats_accepted(client, fmt, name, ctype):
    c = accept(client, encode(photo(seed=3), fmt), name, ctype)
    assert c.original_format == fmt


def test_transparent_png_flattened_on_white(client):
    img = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([0, 0, 149, 299], fill=(0, 0, 255, 255))
    c = accept(client, encode(img, "PNG"), "alpha.png", "image/png")
    out, _ = stored_image(c)
    assert min(out.getpixel((250, 150))) > 245
    assert out.getpixel((50, 150))[2] > 200


def test_motion_photo_trailer_accepted_and_dropped(client):
    """Phones append an MP4 after the JPEG (Motion Photo): harmless, and not stored."""
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 500
    c = accept(client, jpeg(seed=11) + mp4, "PXL_MP.jpg", "image/jpeg")
    _, raw = stored_image(c)
    assert b"ftypmp42" not in raw and raw.endswith(b"\xff\xd9")


def test_long_video_trailer_with_chance_tokens_accepted(client):
    """A Motion Photo's MP4 is megabytes of compressed data in which 4-byte tokens such as
    "PK\\x03\\x04" or "<svg" occur by chance: that must not be taken for a polyglot."""
    rng = np.random.default_rng(5)
    video = bytearray(rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes())
    video[1000:1004] = b"PK\x03\x04"
    video[200_000:200_004] = b"<svg"
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(video)
    accept(client, jpeg(seed=15) + mp4, "MVIMG_1.jpg", "image/jpeg")


def test_path_traversal_name_sanitised(client, private_media, tmp_path):
    c = accept(client, jpeg(seed=12), "../../etc/passwd.jpg", "image/jpeg")
    assert c.original_name == "passwd.jpg"
    files = list_storage(private_media)
    assert files == [f"originals/{c.sha256[:2]}/{c.sha256}.jpg"]
    assert not (tmp_path / "etc").exists()
    c2 = accept(client, jpeg(seed=13), "..\\..\\windows\\sys\x00tem32\\evil\n.jpg", "image/jpeg")
    assert c2.original_name == "evil.jpg"


def test_duplicate_refused(client, make_user, client_for, private_media):
    data = jpeg(seed=14)
    accept(client, data, "a.jpg", "image/jpeg")
    resp = post(client_for(make_user()), data, "copy.jpg", "image/jpeg")
    assert resp.status_code == 409 and "already been uploaded" in resp.json()["error"]["message"]
    assert len(list_storage(private_media)) == 1 and Contribution.objects.count() == 1


# --- orientation and metadata -------------------------------------------------------------

def upright_marker_image() -> Image.Image:
    """300x400 portrait, grey, with a red block top-left and a blue block bottom-right."""
    img = Image.new("RGB", (300, 400), (128, 128, 128))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 99, 99], fill=(255, 0, 0))
    d.rectangle([200, 300, 299, 399], fill=(0, 0, 255))
    return img


# How a camera stores an upright scene for each EXIF orientation (EXIF 2.32, tag 0x0112):
# the stored pixels are the upright image transformed by the inverse of the display
# transform that the tag asks for.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # displayed after a 90° clockwise turn
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # displayed after a 90° counter-clockwise turn
}


def is_red(p) -> bool:
    return p[0] > 200 and p[1] < 60 and p[2] < 60


def is_blue(p) -> bool:
    return p[2] > 200 and p[0] < 60 and p[1] < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_stored_upright(client, orientation):
    upright = upright_marker_image()
    op = STORE_FOR_ORIENTATION[orientation]
    stored_pixels = upright if op is None else upright.transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored_pixels, "JPEG", quality=95, exif=exif.tobytes())
    c = accept(client, data, f"o{orientation}.jpg", "image/jpeg")
    img, _ = stored_image(c)
    assert img.size == (300, 400)
    assert (c.width, c.height) == (300, 400)
    assert is_red(img.getpixel((50, 50))) and is_blue(img.getpixel((250, 350)))
    assert not is_red(img.getpixel((250, 50))) and not is_red(img.getpixel((50, 350)))
    assert 0x0112 not in img.getexif()


def test_phone_photo_gps_exif_xmp_icc_comment_all_stripped(client):
    upright = upright_marker_image()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretPhoneMaker"
    exif[0x0110] = "SecretPhoneModel"
    exif[0x0131] = "SecretSoftware"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 22.0, 31.5), 3: "E", 4: (4.0, 53.0, 12.25), 6: 12.0})
    raw_exif = exif.tobytes()
    assert b"SecretPhoneModel" in raw_exif
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b"<rdf:Description SecretXmpLocation=\"home\"/></rdf:RDF></x:xmpmeta>")
    data = encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=raw_exif,
                  icc_profile=icc, comment=b"SecretComment", xmp=xmp)
    check = Image.open(io.BytesIO(data))
    assert check.getexif().get_ifd(0x8825)  # the upload really carries GPS
    c = accept(client, data, "IMG_1234.jpg", "image/jpeg")
    img, raw = stored_image(c)
    assert img.size == (300, 400) and is_red(img.getpixel((50, 50)))  # upright
    assert len(img.getexif()) == 0 and not img.getexif().get_ifd(0x8825)
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "adobe"):
        assert key not in img.info, key
    for secret in (b"Secret", b"Exif\x00", b"xmpmeta", b"ICC_PROFILE", b"http://ns.adobe.com"):
        assert secret not in raw, secret
    # Only APP0 (JFIF) may precede the image data: no APP1..APP15, no COM.
    i, markers = 2, []
    while raw[i] == 0xFF and raw[i + 1] != 0xDA:
        markers.append(raw[i + 1])
        i += 2 + struct.unpack(">H", raw[i + 2:i + 4])[0]
    assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], [hex(m) for m in markers]
