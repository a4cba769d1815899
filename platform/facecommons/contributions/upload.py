"""Hardened intake of an uploaded photo: identify, check, decode safely and normalise.

Everything an uploader sends is hostile until proven otherwise. The order matters:

1. cheap checks on the raw bytes (empty, too large, magic number, file name and declared type
   agree with the content, container structure intact, nothing appended after the image);
2. the header is parsed WITHOUT decoding pixels, and the declared size is checked against the
   megapixel limit (decompression bombs are refused before any big allocation);
3. only then are the pixels decoded, oriented upright (EXIF), converted to sRGB (embedded ICC
   profile) and 8-bit RGB, and re-encoded as a fresh JPEG that carries no metadata at all.

Polyglot policy (decided here, tested in tests/contributions/test_upload_corpus.py): a file
must be exactly one image. Bytes after the end of the image are refused when they look like
another format (ZIP/JAR/Office, HTML or script, PDF, PHP, XML/SVG, archives, executables), and
a file that a ZIP reader would open is refused wherever the archive sits. Harmless trailers
that phones write (padding, a Motion Photo MP4 after a JPEG) are dropped by the re-encoding.
We never serve the uploaded bytes, only our own re-encoded JPEG.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import imagehash
import numpy as np
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, ImageCms, ImageFile, ImageOps

from facecommons.common.errors import ServiceError
from facecommons.common.tunables import tunables

try:  # HEIC/HEIF from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - pillow-heif is in requirements
    HEIF_AVAILABLE = False

MB = 1024 * 1024


def max_upload_bytes() -> int:
    return tunables.UPLOAD_MAX_BYTES


def max_megapixels() -> float:
    return tunables.UPLOAD_MAX_MEGAPIXELS


def min_short_side() -> int:
    # A hard refusal is only for what no person could use. 128 px still holds a face of at
    # least 64 px (the pipeline's `face_small` finding, which advises rather than refuses);
    # 200 px webcam and messaging-app photos (utk's) must get in and reach review.
    return tunables.UPLOAD_MIN_SHORT_SIDE


def max_aspect_ratio() -> float:
    # Face photos, portraits and phone panoramas stay well under 6:1; a 256x20000 strip does not.
    return tunables.UPLOAD_MAX_ASPECT_RATIO




def max_metadata_bytes() -> int:
    """All embedded metadata together (ICC profile, EXIF, XMP, comments, text chunks), one
    limit for every format. Cameras and phones write tens of KB; a megabyte of metadata in a
    photo is an attack or an accident. Counted twice: in the container before decoding, and
    in what the decoder extracted (compressed text chunks can inflate)."""
    return tunables.UPLOAD_MAX_METADATA_BYTES


def _metadata_too_large(size: int) -> UploadRejected:
    return UploadRejected("metadata_too_large", gettext("The photo carries %(kb)s KB of embedded metadata (colour profile, EXIF, XMP or text); at most "
                "%(limit)s KB is accepted. Please export or save the plain photo and try again.")
        % {"kb": size // 1024, "limit": max_metadata_bytes() // 1024}, status=400)
JPEG_QUALITY = 92
# Optimised Huffman tables make the stored file ~5-10 % smaller for ~0.1 s more CPU per 12 MP
# photo in the web process; see bench/upload_normalise.py and docs/benchmarks.md.
JPEG_OPTIMIZE = False
ACCEPTED_LABEL = gettext_lazy("JPEG, PNG, WebP or HEIC")


class UploadRejected(ServiceError):
    """The upload is refused."""


@dataclass(frozen=True)
class NormalisedImage:
    jpeg: bytes  # the stored original: upright, sRGB, 8-bit, no metadata
    width: int
    height: int
    source_format: str  # JPEG, PNG, WEBP, HEIF
    source_sha256: str  # of the bytes as uploaded
    sha256: str  # of ``jpeg``
    phash: str  # 16 hex chars, imagehash.phash of the normalised image
    name: str  # sanitised original file name
    byte_size: int  # len(jpeg)

    @property
    def storage_key(self) -> str:
        return original_key(self.sha256)


def original_key(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}.jpg"


# --- identification ------------------------------------------------------------------

EXTENSIONS = {
    "JPEG": {"jpg", "jpeg", "jpe", "jfif"},
    "PNG": {"png"},
    "WEBP": {"webp"},
    "HEIF": {"heic", "heif", "hif"},
}
CONTENT_TYPES = {
    "JPEG": {"image/jpeg", "image/jpg", "image/pjpeg"},
    "PNG": {"image/png", "image/x-png"},
    "WEBP": {"image/webp"},
    "HEIF": {"image/heic", "image/heif"},
}
# Types a browser or client sends when it does not know better: the content decides.
GENERIC_CONTENT_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-unknown"}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"hevc", b"hevx"}

# Formats we recognise in order to name them in the refusal.
_OTHER_SIGNATURES: list[tuple[bytes, str]] = [
    (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"%PDF", "PDF"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"PK\x03\x04", "ZIP"), (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "Photoshop"), (b"\x7fELF", "executable"), (b"MZ", "executable"), (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"), (b"\x1f\x8b", "gzip"), (b"\xff\x0a", "JPEG XL"), (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"qoif", "QOI"),
]
_TEXTUAL_MARKUP = re.compile(rb"^\s*(<\?xml|<svg|<!doctype|<html|<script|<\?php|\{|\[)", re.IGNORECASE)
# A trailer (bytes after the end of the image) that starts like another format: an archive,
# markup or script (anything starting with "<"), a document, an executable.
_TRAILER_START = re.compile(rb"PK\x03\x04|PK\x05\x06|PK\x01\x02|<|%PDF|Rar!|7z\xbc\xaf|\x7fELF|MZ|\x1f\x8b|#!|\{")
# Inside a short trailer, tokens of another format anywhere. Long trailers (a Motion Photo's
# MP4 runs to megabytes) are not searched this way: random bytes would match a 4-byte token
# about once per 4 GB, i.e. for ~1 in 1000 videos.
_ACTIVE_TRAILER = re.compile(
    rb"PK\x03\x04|PK\x05\x06|<script|<SCRIPT|<html|<HTML|<!DOCTYPE|<!doctype|<\?php|<\?xml|<svg|%PDF-|Rar!\x1a|7z\xbc\xaf|javascript:")
SHORT_TRAILER = 64 * 1024
# Markers that must not appear anywhere in an image we accept. Kept long and exact so that
# random compressed bytes practically never match: ~2^-55 per position for the script tag
# and ~2^-46 for "<?php " (at most ~2^-21 for a whole 25 MB file).
_ACTIVE_ANYWHERE = re.compile(rb"<\s*[sS][cC][rR][iI][pP][tT][\s>]|<\?php\s")


def _refuse_format(name: str) -> UploadRejected:
    if name == "SVG":
        return UploadRejected("unsupported_format", gettext("SVG drawings are not accepted: please upload a photo (%(formats)s).") % {"formats": ACCEPTED_LABEL}, status=415)
    if name == "text":
        return UploadRejected("unsupported_format", gettext("This file is text, not a photo. Please upload a %(formats)s photo.") % {"formats": ACCEPTED_LABEL}, status=415)
    return UploadRejected("unsupported_format", gettext("%(name)s files are not accepted. Please upload a photo as %(formats)s.")
                          % {"name": name, "formats": ACCEPTED_LABEL}, status=415)


def sniff_format(data: bytes) -> str:
    """The format named by the content's magic number; raises UploadRejected if not accepted."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i:i + 4] for i in range(16, min(len(head), 8 + struct.unpack(">I", head[:4])[0]), 4)}
        if brand in {b"avif", b"avis"}:
            raise _refuse_format("AVIF")
        if brand in HEIF_BRANDS or compatible & HEIF_BRANDS:
            return "HEIF"
        raise _refuse_format(gettext("Video or other ISO media"))
    for sig, name in _OTHER_SIGNATURES:
        if head.startswith(sig):
            raise _refuse_format(name)
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _TEXTUAL_MARKUP.match(stripped):
        if re.search(rb"<svg", data[:4096], re.IGNORECASE):
            raise _refuse_format("SVG")
        raise _refuse_format("text")
    try:
        data[:4096].decode("utf-8")
        raise _refuse_format("text")
    except UnicodeDecodeError:
        pass
    raise UploadRejected("unsupported_format", gettext("This file is not an image we recognise. Please upload a %(formats)s photo.")
                         % {"formats": ACCEPTED_LABEL}, status=415)


def sanitise_filename(filename: str | None) -> str:
    """A safe display name: basename only, no control or path characters, at most 100 chars."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*\x00')
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 100 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:100]
    return name or "photo"


def _extension(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rpartition(".")[2].lower() if "." in base else ""


def check_name_and_type(fmt: str, filename: str, content_type: str | None) -> None:
    ext = _extension(filename or "")
    # Clients that send a blob without a name ("blob", "image") let the content decide.
    if ext and ext not in EXTENSIONS[fmt]:
        known = next((f for f, exts in EXTENSIONS.items() if ext in exts), None)
        what = (gettext("a %(format)s name") % {"format": known} if known
                else gettext("the extension .%(ext)s") % {"ext": ext})
        raise UploadRejected("content_mismatch", gettext("The file name says .%(ext)s but the content is a %(format)s image (%(what)s does not match). "
                    "Rename the file or export it again.") % {"ext": ext, "format": fmt, "what": what}, status=400)
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in GENERIC_CONTENT_TYPES and ctype not in CONTENT_TYPES[fmt]:
        if not any(ctype in types for types in CONTENT_TYPES.values()):
            raise UploadRejected("unsupported_format", gettext("Files of type %(type)s are not accepted. Please upload a %(formats)s photo.")
                                 % {"type": ctype, "formats": ACCEPTED_LABEL}, status=415)
        raise UploadRejected("content_mismatch", gettext("The file was sent as %(type)s but its content is a %(format)s image.")
                             % {"type": ctype, "format": fmt}, status=400)


# --- container structure ---------------------------------------------------------------

def _truncated() -> UploadRejected:
    return UploadRejected("truncated", gettext("The image is incomplete (the file ends too early). "
                                                  "Please upload it again."), status=400)


def _corrupt(detail: str = "") -> UploadRejected:
    return UploadRejected("corrupt", gettext("The image data is damaged and cannot be read.")
                          + (f" ({detail})" if detail else ""), status=400)


_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_end(data: bytes, metadata: list[int]) -> int:
    """Offset just after the EOI marker of the first JPEG image (walks segments, then scans).

    Adds the bytes of the APPn and COM segments before the first scan to ``metadata[0]``."""
    n, i = len(data), 2
    while True:
        if i + 4 > n:
            raise _truncated()
        if data[i] != 0xFF:
            raise _corrupt("bad JPEG segment")
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            raise _truncated()
        marker = data[i]
        i += 1
        if marker == 0xD9:
            raise _corrupt("no image data")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if i + 2 > n:
            raise _truncated()
        (length,) = struct.unpack(">H", data[i:i + 2])
        if length < 2:
            raise _corrupt("bad JPEG segment length")
        if i + length > n:
            raise _truncated()
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn (EXIF, XMP, ICC, ...) and comments
            metadata[0] += length - 2
        i += length
        if marker == 0xDA:  # start of scan: entropy-coded data follows until a real marker
            break
    while True:
        # The next real marker: 0xFF not followed by a stuffed 0x00, a restart marker or fill.
        m = _JPEG_MARKER.search(data, i)
        if m is None:
            raise _truncated()
        j = m.start()
        nxt = data[j + 1]
        if nxt == 0xD9:
            return j + 2
        # Another segment between scans (progressive JPEG: DHT, SOS, ...).
        if j + 4 > n:
            raise _truncated()
        (length,) = struct.unpack(">H", data[j + 2:j + 4])
        if length < 2 or j + 2 + length > n:
            raise _truncated()
        i = j + 2 + length


def _png_end(data: bytes, metadata: list[int]) -> int:
    """Offset after IEND; adds the bytes of ancillary chunks (iCCP, eXIf, tEXt, zTXt, iTXt, ...)
    to ``metadata[0]``."""
    n, i = len(data), 8
    seen_ihdr = False
    while True:
        if i + 12 > n:
            raise _truncated()
        length, ctype = struct.unpack(">I4s", data[i:i + 8])
        if length > 0x7FFFFFFF or i + 12 + length > n:
            raise _truncated()
        if not re.fullmatch(rb"[A-Za-z]{4}", ctype):
            raise _corrupt("bad PNG chunk")
        if not seen_ihdr and ctype != b"IHDR":
            raise _corrupt("PNG without header")
        seen_ihdr = True
        crc = struct.unpack(">I", data[i + 8 + length:i + 12 + length])[0]
        if zlib.crc32(data[i + 4:i + 8 + length]) & 0xFFFFFFFF != crc:
            raise _corrupt("PNG checksum mismatch")
        if ctype in (b"acTL", b"fcTL", b"fdAT"):
            raise UploadRejected("animated", gettext("Animated images are not accepted; please upload a single still photo."), status=400)
        if ctype[0:1].islower():  # ancillary: never pixels
            metadata[0] += length
        i += 12 + length
        if ctype == b"IEND":
            return i


def _webp_end(data: bytes, metadata: list[int]) -> int:
    """End of the RIFF container; adds the bytes of its ICCP, EXIF and XMP chunks to ``metadata[0]``."""
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size + (size & 1)
    if len(data) < 8 + size:
        raise _truncated()
    i = 12
    while i + 8 <= min(end, len(data)):
        fourcc, (length,) = data[i:i + 4], struct.unpack("<I", data[i + 4:i + 8])
        if fourcc in (b"ICCP", b"EXIF", b"XMP "):
            metadata[0] += length
        i += 8 + length + (length & 1)
    if b"ANIM" in data[12:64] or (data[12:16] == b"VP8X" and len(data) > 20 and data[20] & 0x02):
        raise UploadRejected("animated", gettext("Animated images are not accepted; please upload a single still photo."), status=400)
    return min(end, len(data))


def _isobmff_end(data: bytes, metadata: list[int]) -> int:
    """End of the last box. HEIF keeps EXIF/XMP as items inside 'mdat', so its metadata is
    counted from what the decoder extracted (``check_decoded_metadata``)."""
    n, i = len(data), 0
    while i < n:
        if i + 8 > n:
            # a few stray bytes after the last box: treat as a trailer
            return i
        size, box = struct.unpack(">I4s", data[i:i + 8])
        if not re.fullmatch(rb"[a-zA-Z0-9 ]{4}", box):
            return i  # not a box: whatever follows is a trailer
        if size == 1:
            if i + 16 > n:
                raise _truncated()
            (size,) = struct.unpack(">Q", data[i + 8:i + 16])
        elif size == 0:
            return n
        if size < 8:
            raise _corrupt("bad HEIF box")
        if i + size > n:
            raise _truncated()
        i += size
    return n


def check_decoded_metadata(info: Mapping[Any, Any]) -> None:
    """The same limit on what the decoder extracted: ICC, EXIF, XMP, comments, text chunks."""
    size = 0
    for value in info.values():
        if isinstance(value, (bytes, bytearray, str)):
            size += len(value)
        elif isinstance(value, (list, tuple)):
            size += sum(len(v) for v in value if isinstance(v, (bytes, bytearray, str)))
    if size > max_metadata_bytes():
        raise _metadata_too_large(size)


def check_structure(fmt: str, data: bytes) -> None:
    metadata = [0]
    end = {"JPEG": _jpeg_end, "PNG": _png_end, "WEBP": _webp_end, "HEIF": _isobmff_end}[fmt](data, metadata)
    if metadata[0] > max_metadata_bytes():
        raise _metadata_too_large(metadata[0])
    trailer = data[end:].lstrip(b"\x00\xff \t\r\n")
    if trailer:
        if _TRAILER_START.match(trailer) or (len(trailer) <= SHORT_TRAILER and _ACTIVE_TRAILER.search(trailer)):
            raise UploadRejected("polyglot", gettext("This file hides another file (an archive, a web page or a script) after the image. "
                            "Please upload the plain photo."), status=400)
    if _ACTIVE_ANYWHERE.search(data):
        raise UploadRejected("polyglot", gettext("This file contains embedded script code and is not accepted."), status=400)
    if _is_zip(data):
        raise UploadRejected("polyglot", gettext("This file is also a ZIP archive and is not accepted. "
                                         "Please upload the plain photo."), status=400)


def _is_zip(data: bytes) -> bool:
    try:
        return zipfile.is_zipfile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - zipfile chokes on odd bytes: then it is not a ZIP
        return False


# --- decoding and normalisation ----------------------------------------------------------

_SRGB = None


def _srgb_profile() -> Any:
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale to 8-bit L with proper scaling (PIL would clip)."""
    arr = np.asarray(im)
    out: np.ndarray
    if im.mode == "F":
        peak = float(arr.max()) if arr.size else 1.0
        scale = 255.0 if peak <= 1.0 else (255.0 / 65535.0 if peak > 255 else 1.0)
        out = np.clip(arr * scale, 0, 255)
    else:
        arr = arr.astype(np.int64)
        out = (arr >> 8) if arr.max(initial=0) > 255 else arr
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "L")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    alpha = None
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode in ("P", "L", "RGB") and "transparency" in im.info)
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        im = _to_8bit(im)
    if has_alpha:
        rgba = im.convert("RGBA")
        alpha = rgba.getchannel("A")
        im = rgba.convert("RGB")
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    out = None
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out = ImageCms.profileToProfile(im, src, _srgb_profile(), outputMode="RGB",
                                            renderingIntent=ImageCms.Intent.PERCEPTUAL)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            out = None  # a broken or mismatched profile: fall back to the plain conversion
    if out is None:
        out = im.convert("RGB")
    if alpha is not None:
        white = Image.new("RGB", out.size, (255, 255, 255))
        out = Image.composite(out, white, alpha)
    return out


def _open_header(fmt: str, data: bytes) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, not a 500
        raise _corrupt() from exc
    return im


def _too_many_pixels(w: int = 0, h: int = 0) -> UploadRejected:
    limit = {"max": f"{max_megapixels():g}"}
    if w and h:
        message = gettext("The image is too large (%(w)s×%(h)s = %(mp)s megapixels): at most %(max)s megapixels "
                          "are accepted. Please resize it.") % {"w": w, "h": h, "mp": f"{w * h / 1e6:.0f}", **limit}
    else:
        message = gettext("The image is too large: at most %(max)s megapixels are accepted. Please resize it.") % limit
    return UploadRejected("too_many_pixels", message, status=413)


def check_dimensions(w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise _corrupt("zero size")
    if w * h > max_megapixels() * 1_000_000:
        raise _too_many_pixels(w, h)
    short, long = min(w, h), max(w, h)
    if short < min_short_side():
        raise UploadRejected("too_small", gettext("The image is too small (%(w)s×%(h)s px): the short side must be "
                                                  "at least %(min)s px.") % {"w": w, "h": h, "min": min_short_side()}, status=400)
    if long / short > max_aspect_ratio():
        raise UploadRejected("bad_aspect_ratio", gettext("The image is %(w)s×%(h)s px, which is too long and narrow "
                                                         "for a face photo (at most %(max)s:1).")
                             % {"w": w, "h": h, "max": f"{max_aspect_ratio():g}"}, status=400)


def perceptual_hash(img: Image.Image) -> str:
    """imagehash.phash (64 bits, 16 hex chars) of ``img``, box-reduced first to 256-511 px.

    phash itself shrinks to 32x32 with a Lanczos filter; on a 12 MP photo that filter alone
    costs ~65 ms. Averaging down first is the same low-pass the hash relies on, and the result
    stays within a bit or two of phash on the full image (tests/contributions/test_upload.py).
    """
    grey = img.convert("L")
    factor = min(grey.size) // 256
    if factor > 1:
        grey = grey.reduce(factor)
    return str(imagehash.phash(grey))


def _read_all(fileobj: IO[bytes]) -> bytes:
    limit = max_upload_bytes()
    size = getattr(fileobj, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large(size)
    if hasattr(fileobj, "seek"):
        try:
            fileobj.seek(0)
        except (OSError, ValueError):
            pass
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise _too_large(None)
    return bytes(data)


def _too_large(size: int | None) -> UploadRejected:
    limit = {"max": max_upload_bytes() // MB}
    if size:
        message = gettext("The file is too large (%(size)s MB): at most %(max)s MB per photo.") % {
            "size": f"{size / MB:.1f}", **limit}
    else:
        message = gettext("The file is too large: at most %(max)s MB per photo.") % limit
    return UploadRejected("file_too_large", message, status=413)


def normalise_upload(fileobj: IO[bytes], *, filename: str, content_type: str | None) -> NormalisedImage:
    """Check and normalise one uploaded photo. Raises :class:`UploadRejected` with a clear message.

    Nothing is written anywhere: the caller stores ``jpeg`` under ``storage_key``.
    """
    data = _read_all(fileobj)
    if not data:
        raise UploadRejected("empty_file", gettext("The file is empty."), status=400)
    fmt = sniff_format(data)
    if fmt == "HEIF" and not HEIF_AVAILABLE:  # pragma: no cover
        raise _refuse_format("HEIC")
    check_name_and_type(fmt, filename, content_type)
    check_structure(fmt, data)

    Image.MAX_IMAGE_PIXELS = int(max_megapixels() * 1_000_000)
    im = _open_header(fmt, data)
    with im:
        w, h = im.size  # from the header: nothing decoded yet
        check_dimensions(w, h)
        # MPO (a JPEG followed by depth or gain-map pictures, as phones write) is a still photo:
        # the first picture is the photo. Anything else with several frames is an animation.
        if im.format != "MPO" and (getattr(im, "n_frames", 1) > 1 or getattr(im, "is_animated", False)):
            raise UploadRejected("animated", gettext("Animated images and image sequences are not accepted; "
                                             "please upload a single still photo."), status=400)
        check_decoded_metadata(im.info)
        icc = im.info.get("icc_profile")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                im.load()
                upright = ImageOps.exif_transpose(im)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(w, h) from exc
        except OSError as exc:
            if "truncated" in str(exc).lower():
                raise _truncated() from exc
            raise _corrupt() from exc
        except Exception as exc:  # noqa: BLE001 - decoder failures are bad input, never a 500
            raise _corrupt() from exc
        assert upright is not None
        check_decoded_metadata(im.info)  # PNG text chunks after the pixels are read by load()
        rgb = _to_srgb(upright, icc if isinstance(icc, bytes) else None)

    # A brand-new image object: no info dict, so nothing (EXIF, XMP, ICC, comment) can leak
    # into the encoder. (paste copies pixels in C; tobytes/frombytes cost 70 ms at 12 MP.)
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    buf = io.BytesIO()
    clean.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=JPEG_OPTIMIZE)
    jpeg = buf.getvalue()
    return NormalisedImage(
        jpeg=jpeg, width=clean.width, height=clean.height, source_format=fmt,
        source_sha256=hashlib.sha256(data).hexdigest(), sha256=hashlib.sha256(jpeg).hexdigest(),
        phash=perceptual_hash(clean), name=sanitise_filename(filename), byte_size=len(jpeg),
    )
