"""One metadata limit (ICC, EXIF, XMP, text) for JPEG, PNG, WebP and HEIC alike (issue 14, part 7).

Before, a 3 MB ICC profile passed in a JPEG while a 2 MB text chunk was refused in a PNG,
and several chunks just under 1 MB each passed in a PNG."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from facecommons.contributions.upload import UploadRejected, max_metadata_bytes, normalise_upload

MB = 1024 * 1024
FORMATS = [("JPEG", "me.jpg", "image/jpeg"), ("PNG", "me.png", "image/png"), ("WEBP", "me.webp", "image/webp"),
           ("HEIF", "me.heic", "image/heic")]


def _photo() -> Image.Image:
    return Image.linear_gradient("L").convert("RGB").resize((320, 320))


def _encode(fmt: str, **kw) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    _photo().save(buf, fmt, **kw)
    return buf.getvalue()


def _normalise(data: bytes, name: str, ctype: str):
    return normalise_upload(io.BytesIO(data), filename=name, content_type=ctype)


def _refused(data: bytes, name: str, ctype: str) -> UploadRejected:
    with pytest.raises(UploadRejected) as exc:
        _normalise(data, name, ctype)
    return exc.value


@pytest.mark.parametrize(("fmt", "name", "ctype"), FORMATS)
def test_oversized_icc_profile_refused_in_every_format(fmt, name, ctype):
    # Random bytes do not compress, so the PNG's zlib-compressed iCCP stays as large.
    icc = os.urandom(int(1.5 * MB))
    err = _refused(_encode(fmt, icc_profile=icc), name, ctype)
    assert err.code == "metadata_too_large" and err.status == 400 and "metadata" in err.message


@pytest.mark.parametrize(("fmt", "name", "ctype"), FORMATS)
def test_modest_metadata_accepted_and_stripped_in_every_format(fmt, name, ctype):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010E] = "x" * 30_000  # ImageDescription: 30 KB of EXIF, as a camera might write
    out = _normalise(_encode(fmt, icc_profile=icc, exif=exif.tobytes()), name, ctype)
    with Image.open(io.BytesIO(out.jpeg)) as im:
        assert "icc_profile" not in im.info and not im.getexif()


@pytest.mark.parametrize(("fmt", "name", "ctype"), [f for f in FORMATS if f[0] != "JPEG"])
def test_oversized_xmp_refused(fmt, name, ctype):
    # JPEG keeps XMP in one 64 KB segment; the others can carry any size.
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b"A" * int(1.2 * MB) + b"</x:xmpmeta>"
    if fmt == "PNG":  # PNG carries XMP in an iTXt chunk
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        data = _encode(fmt, pnginfo=info)
    else:
        data = _encode(fmt, xmp=xmp)
    err = _refused(data, name, ctype)
    assert err.code == "metadata_too_large"


def test_many_jpeg_segments_add_up():
    """Twenty 60 KB comments/APP segments: each small, together over the limit."""
    base = _encode("JPEG")
    segment = b"\xff\xfe" + struct.pack(">H", 60_002) + b"c" * 60_000
    data = base[:2] + segment * 20 + base[2:]
    assert _refused(data, "me.jpg", "image/jpeg").code == "metadata_too_large"


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def test_png_text_chunks_add_up_and_compressed_text_counts_inflated():
    base = _encode("PNG")
    chunks = b"".join(_png_chunk(b"tEXt", b"Comment%d\x00" % i + b"A" * 300_000) for i in range(4))
    data = base[:33] + chunks + base[33:]  # after IHDR
    assert _refused(data, "me.png", "image/png").code == "metadata_too_large"
    # zTXt: 3 KB on disk, 1.2 MB once inflated.
    info = PngImagePlugin.PngInfo()
    for i in range(3):
        info.add_text(f"k{i}", "B" * 400_000, zip=True)
    small_on_disk = _encode("PNG", pnginfo=info)
    assert len(small_on_disk) < 100_000
    assert _refused(small_on_disk, "me.png", "image/png").code == "metadata_too_large"


def test_limit_is_a_setting(settings):
    settings.UPLOAD_MAX_METADATA_BYTES = 64 * 1024
    assert max_metadata_bytes() == 64 * 1024
    icc = os.urandom(100 * 1024)
    for fmt, name, ctype in FORMATS:
        assert _refused(_encode(fmt, icc_profile=icc), name, ctype).code == "metadata_too_large", fmt
