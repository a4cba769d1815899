"""Property tests: whatever bytes or JSON arrive, the answer is a refusal or success, never a crash."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from facecommons.contributions.upload import UploadRejected, normalise_upload


def _seed_files() -> list[bytes]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    img = Image.linear_gradient("L").convert("RGB").resize((300, 300))
    out = []
    for fmt in ("JPEG", "PNG", "WEBP", "HEIF"):
        buf = io.BytesIO()
        img.save(buf, fmt)
        out.append(buf.getvalue())
    return out


SEEDS = _seed_files()


@st.composite
def mutated_images(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "append"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 2000))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            data += draw(st.binary(min_size=1, max_size=256))
    return bytes(data)


def _check(data: bytes, name: str, ctype: str | None) -> None:
    try:
        out = normalise_upload(io.BytesIO(data), filename=name, content_type=ctype)
    except UploadRejected as exc:
        assert 400 <= exc.status < 500 and exc.message
        return
    # Whatever was accepted is a clean, decodable JPEG.
    with Image.open(io.BytesIO(out.jpeg)) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and not im.getexif()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_images(), name=st.sampled_from(["a.jpg", "a.png", "a.webp", "a.heic", "blob", ""]),
       ctype=st.sampled_from([None, "", "image/jpeg", "image/png", "application/octet-stream", "text/html"]))
def test_mutated_images_never_crash(data, name, ctype):
    _check(data, name, ctype)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4096), name=st.text(max_size=300))
def test_arbitrary_bytes_and_names_never_crash(data, name):
    _check(data, name, "image/jpeg")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                  max_size=4), max_leaves=12)


@pytest.mark.django_db
def test_categories_validate_any_json_is_clean_or_validation_error():
    from facecommons.contributions.selectors import taxonomy_current
    from facecommons.contributions.services import categories_validate

    taxonomy = taxonomy_current()
    keys = st.sampled_from(["age_range", "gender", "ethnicity", "skin_tone", "accessories", "lighting", "x"])
    values = st.sampled_from(["18_24", "woman", "self_describe", "black", "prefer_not_to_say", "none", "8",
                              "glasses", "indoor", "", "zz"])
    cats = st.dictionaries(keys, values | st.lists(values, max_size=3) | JSON, max_size=7) | JSON

    @settings(max_examples=150, deadline=None)
    @given(categories=cats, free_text=st.none() | st.dictionaries(keys, st.text(max_size=120), max_size=3) | JSON)
    def check(categories, free_text):
        try:
            clean, text = categories_validate(categories=categories, free_text=free_text, taxonomy=taxonomy)
        except ValidationError as exc:
            assert exc.message_dict
            return
        assert set(clean) == {"age_range", "gender", "ethnicity", "skin_tone", "accessories", "lighting"}
        assert all(len(t) <= 100 for t in text.values())

    check()
