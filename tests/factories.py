"""Model factories for tests (factory_boy style helpers around the real services/storage)."""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any

from PIL import Image

from facecommons.accounts.comprehension import QUESTIONS
from facecommons.common.storage import storage_save_bytes
from facecommons.contributions.models import Contribution, ContributionFile, FileVariant, TaxonomyVersion

# The comprehension check's right answers, as the consent form posts them.
CHECK_RIGHT = {f"check-{q.key}": q.correct for q in QUESTIONS}

DEFAULT_CATEGORIES = {
    "age_range": "25_34", "gender": "woman", "ethnicity": ["black"], "skin_tone": "8",
    "accessories": ["none"], "lighting": "indoor",
}


def jpeg_bytes(width: int = 320, height: int = 320, seed: int | None = None) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    img.putpixel((rng.randrange(width), rng.randrange(height)), (rng.randrange(256), 0, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_contribution(owner: Any, *, status: str = "awaiting_review", categories: dict | None = None,
                      image: bytes | None = None, phash: str | None = None, **fields: Any) -> Contribution:
    """A contribution with its original stored in private storage, skipping the upload checks.

    For tests of later stages (moderation, releases, rewards) that need rows in a given status."""
    data = image if image is not None else jpeg_bytes(seed=random.randrange(1 << 30))
    sha = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
    key = f"originals/{sha[:2]}/{sha}.jpg"
    storage_save_bytes(key, data)
    c = Contribution.objects.create(
        owner=owner, status=status, taxonomy=TaxonomyVersion.objects.get(is_current=True),
        categories=categories if categories is not None else dict(DEFAULT_CATEGORIES),
        sha256=sha, source_sha256=sha, phash=phash or f"{random.getrandbits(64):016x}", width=w, height=h,
        original_format="JPEG", byte_size=len(data), **fields,
    )
    ContributionFile.objects.create(contribution=c, variant=FileVariant.ORIGINAL, key=key, sha256=sha,
                                    width=w, height=h, byte_size=len(data))
    return c
