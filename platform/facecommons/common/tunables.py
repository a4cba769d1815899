"""Every platform tunable, declared once: name, type, default, unit and why.

Read a value as an attribute of :data:`tunables`::

    from facecommons.common.tunables import tunables

    tunables.EVAL_CHUNK_LEASE_SECONDS  # int, read now

Each read looks at the Django settings module first (so ``override_settings`` and pytest's
``settings`` fixture work), then at the environment variable of the same name, converted to
the declared type, then at the default declared here. No call site states a default.

``docs/settings.md`` is generated from this module (``manage.py settings_doc``; ``--check``
fails when the file is stale, and a test runs it), so the sections' prose lives here too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from django.conf import settings

V = TypeVar("V")

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Section:
    title: str
    intro: str = ""
    outro: str = ""


UPLOADS = Section("Uploads (contributions)")
PIPELINE = Section("Worker pipeline", intro=(
    "The verdict's thresholds default to the values in `facecommons.pipeline.analysis.Thresholds`, "
    "where each one's calibration is explained."))
MODERATION = Section("Moderation")
RELEASES = Section("Releases and statistics")
EVALUATION = Section("Evaluation")
WORKBENCH = Section("Workbench (training runs)", outro=(
    "Runs also use `EVAL_MIN_GROUP_SIZE`, `EVAL_BOOTSTRAP_REPLICATES`, `EVAL_TARGET_FMR` and "
    "`STATS_MIN_COUNT`, as the evaluation does."))
REWARDS = Section("Rewards")
API = Section("API and accounts")
SITE = Section("Site and workers", intro=(
    "These three are also Django settings (`config/settings/base.py` reads them from the "
    "environment with the defaults declared here) because settings-time code needs them."))

SECTIONS = (UPLOADS, PIPELINE, MODERATION, RELEASES, EVALUATION, WORKBENCH, REWARDS, API, SITE)


def _convert(kind: type, value: Any) -> Any:
    """``value`` (from settings or the environment) as ``kind``; strings are parsed."""
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if kind is bool:
        return value.strip().lower() in _TRUE if isinstance(value, str) else bool(value)
    if kind is dict:
        return json.loads(value) if isinstance(value, str) else dict(value)
    return kind(value)


class Tunable(Generic[V]):
    """One tunable. Declared as a class attribute of :class:`Tunables`, which names it.

    ``default_factory`` is for a default computed from elsewhere at read time (another
    tunable, a Django setting, the dataclass that owns a threshold); ``shown`` is how the
    documentation writes such a default, or a plainer form of a literal one.
    """

    name: str

    def __init__(self, kind: type[V], default: V | None = None, doc: str = "", *, section: Section,
                 unit: str = "", shown: str | None = None,
                 default_factory: Callable[[], V] | None = None) -> None:
        if (default is None) == (default_factory is None):
            raise TypeError("a tunable has exactly one of default and default_factory")
        self.kind, self.doc, self.section, self.unit = kind, doc, section, unit
        self._default, self._factory, self._shown = default, default_factory, shown

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def default(self) -> V:
        if self._factory is not None:
            return self._factory()
        assert self._default is not None
        return self._default

    @property
    def shown(self) -> str:
        """The default as the documentation writes it."""
        if self._shown is not None:
            return self._shown
        value = self.default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return f"`{value}`" if value else "(empty)"
        if isinstance(value, dict):
            return f"`{json.dumps(value)}`"
        return str(value)

    def from_env(self) -> V:
        """Environment variable or default, without Django settings (for settings modules)."""
        raw = os.environ.get(self.name)
        return self.default if raw is None else _convert(self.kind, raw)  # type: ignore[no-any-return]

    def read(self) -> V:
        if hasattr(settings, self.name):
            return _convert(self.kind, getattr(settings, self.name))  # type: ignore[no-any-return]
        return self.from_env()

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Tunable[V]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> V: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Tunable[V] | V:
        return self if obj is None else self.read()


MB = 1024 * 1024


def _threshold(field: str) -> Callable[[], Any]:
    """The default of one of the pipeline's :class:`Thresholds` (imported when first read:
    the analysis module brings OpenCV and the models' code)."""
    def default() -> Any:
        from facecommons.pipeline.analysis import Thresholds  # lazy: OpenCV and the models' code, read rarely

        return getattr(Thresholds, field)
    return default


def _workbench_dir() -> str:
    return str(settings.VAR_DIR / "workbench")


def _licence_url() -> str:
    return f"{tunables.SITE_URL.rstrip('/')}/research/"


class Tunables:
    """The catalogue. Attribute access on the instance :data:`tunables` reads the value."""

    # --- uploads ---------------------------------------------------------------------------
    UPLOAD_MAX_BYTES = Tunable(int, 25 * MB, "largest accepted file (413 above)",
                               section=UPLOADS, unit="bytes", shown="25 MB")
    UPLOAD_MAX_MEGAPIXELS = Tunable(float, 50.0, "largest accepted image, checked from the header before decoding",
                                    section=UPLOADS, unit="MP")
    # A 128 px photo can still hold a 64 px face; smaller faces are a finding, not a refusal, and
    # 256 turned away every 200 px webcam photo before any check could advise.
    UPLOAD_MIN_SHORT_SIDE = Tunable(int, 128, (
        "smallest accepted short side (a 128 px photo can still hold a 64 px face; smaller faces are a "
        "`face_small` finding, not a refusal)"), section=UPLOADS, unit="px")
    UPLOAD_MAX_ASPECT_RATIO = Tunable(float, 6.0, "refuse panoramas and strips", section=UPLOADS)
    UPLOAD_MAX_METADATA_BYTES = Tunable(int, 1 * MB, (
        "all embedded metadata together (ICC, EXIF, XMP, comments, text chunks), the same for JPEG, PNG, "
        "WebP and HEIC; counted in the container and again after decoding"),
        section=UPLOADS, unit="bytes", shown="1 MB")
    UPLOADS_PER_DAY = Tunable(int, 200, "uploads per account in a rolling 24 hours (429 above)", section=UPLOADS)

    # --- worker pipeline -------------------------------------------------------------------
    PIPELINE_DETECTOR = Tunable(str, "retinaface-mobilenet",
                                'detector of the verdict (see `ml.registry.list_models("detector")`)', section=PIPELINE)
    PIPELINE_ENHANCER = Tunable(str, "zero-dce++", "low-light enhancer (`zero-dce++`, `clahe`, `gamma`)",
                                section=PIPELINE)
    PIPELINE_DETECT_SIDE = Tunable(int, None, "long side of the reduced image the detector sees",
                                   section=PIPELINE, unit="px", default_factory=_threshold("detect_side"))
    PIPELINE_ENHANCED_DETECT_SIGMA = Tunable(float, None, (
        "Gaussian sigma (pixels of the detector's input) that smooths the enhanced copy of a dark photo "
        "before detection; 0 = off (people always see it unsmoothed)"),
        section=PIPELINE, unit="px", default_factory=_threshold("enhanced_detect_sigma"))
    PIPELINE_MIN_SCORE = Tunable(float, None, "detector score a face needs to count",
                                 section=PIPELINE, default_factory=_threshold("min_score"))
    PIPELINE_MIN_FACE_PX = Tunable(int, None, "smallest face box (short side, original pixels)",
                                   section=PIPELINE, unit="px", default_factory=_threshold("min_face_px"))
    PIPELINE_MIN_SHARPNESS = Tunable(float, None, (
        "`ml.quality` sharpness of the face (detail kept between two scales of the face aligned at one "
        "size, denoised; 1 = none) below which the photo is flagged `soft`; calibrated in docs/quality.md"),
        section=PIPELINE, default_factory=_threshold("min_sharpness"))
    PIPELINE_MIN_FACE_HIGHLIGHT = Tunable(float, None, (
        "brightest tenth of the face's luma (0-1, as recorded) below which the photo is flagged `dark`; "
        "calibrated in docs/quality.md"), section=PIPELINE, default_factory=_threshold("min_face_highlight"))
    PIPELINE_MAX_OUTSIDE_SHARE = Tunable(float, None, (
        "share of the face outside the frame above which it is flagged `face_cut_off`; calibrated in "
        "docs/quality.md"), section=PIPELINE, default_factory=_threshold("max_outside_share"))
    PIPELINE_CASCADE_SIDE = Tunable(int, None, (
        "long side of the detection cascade's cheap pass; 0 = every photo gets the full pass"),
        section=PIPELINE, unit="px", default_factory=_threshold("cascade_side"))
    PIPELINE_CASCADE_MIN_FACE = Tunable(int, None, (
        "short side (pixels of the cheap pass) of the one face for the cheap pass's answer to be kept"),
        section=PIPELINE, unit="px", default_factory=_threshold("cascade_min_face"))
    # Longer than the task's hard time limit (25 s), so a live run never loses its claim; short,
    # so that lease (30 s) + reconciler interval (10 s) + processing stays under a minute.
    PIPELINE_LEASE_SECONDS = Tunable(int, 30, (
        "how long a worker's claim on a photo lasts; above the hard time limit, and short so that a killed "
        "worker's photo is claimed again within a minute (lease + the reconciler's 10 s + processing)"),
        section=PIPELINE, unit="s")
    PIPELINE_MAX_ATTEMPTS = Tunable(int, 5, "processing attempts before a photo is marked failed", section=PIPELINE)
    PIPELINE_STUCK_AFTER_SECONDS = Tunable(int, 30, (
        "the reconciler (every 10 s, beat) re-enqueues photos in received/processing longer than this, "
        "processing ones only once their lease expired; at most once per 30 s per photo"),
        section=PIPELINE, unit="s")
    # A photo takes 75 ms CPU (median; 300 ms for the slowest, docs/benchmarks.md), so the limits
    # only stop a run that hangs, with ~60x room for a loaded machine. The hard limit stays below
    # PIPELINE_LEASE_SECONDS so a live run never loses its claim (issue 14).
    PIPELINE_SOFT_TIME_LIMIT = Tunable(int, 20, (
        "Celery soft time limit of one photo; a photo takes 75-300 ms CPU (docs/benchmarks.md)"),
        section=PIPELINE, unit="s")
    PIPELINE_TIME_LIMIT = Tunable(int, 25, "Celery hard time limit of one photo; below `PIPELINE_LEASE_SECONDS`",
                                  section=PIPELINE, unit="s")

    # --- moderation ------------------------------------------------------------------------
    MODERATION_CONSENSUS = Tunable(int, 2, "agreeing moderators needed to approve or reject", section=MODERATION)
    MODERATION_LEASE_SECONDS = Tunable(int, 300, "how long a leased photo stays with one moderator",
                                       section=MODERATION, unit="s")
    MODERATION_QUEUE_ORDER = Tunable(str, "oldest", "`oldest` or `scarcest` (scarcest declared categories first)",
                                     section=MODERATION)
    NEAR_DUPLICATE_MAX_DISTANCE = Tunable(int, 8, "perceptual-hash Hamming distance flagged as a near-duplicate",
                                          section=MODERATION, unit="bits")
    NEAR_DUPLICATE_MAX_CANDIDATES = Tunable(int, 5000, "cap on candidates compared per photo", section=MODERATION)
    SAME_FACE_MAX_DISTANCE = Tunable(float, 0.5, (
        "dlib-resnet embedding distance flagged as the same face under another account"), section=MODERATION)

    # --- releases and statistics -----------------------------------------------------------
    STATS_MIN_COUNT = Tunable(int, 5, (
        'counts below this are shown as "fewer than k" (statistics, datasheet, dashboard)'), section=RELEASES)
    RELEASES_BUILD_STALE_SECONDS = Tunable(int, 30, (
        "the build's lease: a heartbeat renews it every third of it while the build runs, so a build whose worker "
        "died (no beat for this long) is enqueued again by the resume pass (every 10 s, beat) and restarts within "
        "a minute"), section=RELEASES, unit="s")
    RELEASES_MAX_TOKENS = Tunable(int, 20, "personal API tokens per researcher", section=RELEASES)
    RELEASES_LICENSE_TEXT = Tunable(str, "", "the LICENSE of every snapshot; empty: the built-in text",
                                    section=RELEASES, shown="(empty: built-in text)")
    RELEASES_LICENSE_URL = Tunable(str, None, "the licence URL in every snapshot's Croissant metadata",
                                   section=RELEASES, shown="`SITE_URL` + `/research/`", default_factory=_licence_url)
    RELEASES_STORAGE_REDIRECT = Tunable(bool, False, "redirect downloads to a presigned storage URL (S3)",
                                        section=RELEASES)
    SENDFILE_X_ACCEL = Tunable(str, "", (
        "internal location prefix (e.g. `/protected/`): the web server serves the bytes (X-Accel-Redirect)"),
        section=RELEASES)
    RELEASES_TRUST_X_FORWARDED_FOR = Tunable(bool, False, (
        "log the client address from X-Forwarded-For (behind a trusted proxy)"), section=RELEASES)
    RELEASES_BLOB_LINK = Tunable(bool, True, (
        "store snapshot files as hard links to the photos' files (one file system); false: copy and check "
        "each SHA-256"), section=RELEASES)
    RELEASES_REMOVAL_REMIND_DAYS = Tunable(int, 7, (
        "days between reminders to researchers who have not acknowledged a removal manifest"),
        section=RELEASES, unit="days")

    # --- evaluation ------------------------------------------------------------------------
    EVAL_TARGET_FMR = Tunable(float, 1e-3, "false-match rate the global threshold is chosen for",
                              section=EVALUATION)
    EVAL_MIN_GROUP_SIZE = Tunable(int, 30, 'groups smaller than this show "insufficient data"', section=EVALUATION)
    EVAL_BOOTSTRAP_REPLICATES = Tunable(int, 200, "bootstrap resamples for threshold-based intervals (at least 20)",
                                        section=EVALUATION)
    EVAL_MAX_IMPOSTOR_PAIRS = Tunable(int, 200_000, "impostor pairs sampled per run", section=EVALUATION)
    EVAL_CHUNK_SIZE = Tunable(int, 100, "photos per evaluation task", section=EVALUATION)
    EVAL_CHUNK_LEASE_SECONDS = Tunable(int, 30, (
        "the chunk's lease: a heartbeat renews it every third of it while the chunk is computed, so a chunk whose "
        "worker died (no beat for this long) is enqueued again by the resume pass (every 10 s, beat) and computed "
        "again within a minute"), section=EVALUATION, unit="s")
    EVAL_LOWLIGHT_LEVELS = Tunable(str, "0.008,0.015,0.03", (
        "light factors of the low-light stress test (comma-separated); empty turns it off"), section=EVALUATION)
    EVAL_GAP_ALERT = Tunable(dict, {"fmr_ratio": 10.0, "detection_gap": 0.1}, (
        "gaps that raise the dashboard banner and mail admins (JSON in the environment)"), section=EVALUATION)
    GATEKEEPER_GAP_ALERT = Tunable(float, 0.1, (
        "gap (best − worst group) of a gatekeeper-audit share that raises the banner and mails admins"),
        section=EVALUATION)
    GATEKEEPER_MAX_AGE_SECONDS = Tunable(int, 3600, (
        "a page or the API recomputes a gatekeeper audit older than this (beat does it hourly too)"),
        section=EVALUATION, unit="s")

    # --- workbench -------------------------------------------------------------------------
    WORKBENCH_TIME_LIMIT_SECONDS = Tunable(int, 3 * 3600, (
        "a training run is stopped (and failed) after this; Celery's soft limit, the hard limit 2 min later"),
        section=WORKBENCH, unit="s")
    WORKBENCH_MEMORY_LIMIT_MB = Tunable(int, 6144, (
        "resident memory above this fails the run (checked between training steps)"), section=WORKBENCH, unit="MB")
    WORKBENCH_LEASE_SECONDS = Tunable(int, 600, (
        "a run whose worker stopped renewing its lease this long is taken over and resumes from its checkpoint"),
        section=WORKBENCH, unit="s")
    WORKBENCH_TORCH_THREADS = Tunable(int, 1, (
        "PyTorch threads per run (more threads on a shared, busy CPU run slower, see docs/benchmarks.md)"),
        section=WORKBENCH)
    WORKBENCH_DIR = Tunable(str, None, (
        "per-run checkpoints (one per epoch), removed when the run ends; must be on disk the workers share"),
        section=WORKBENCH, shown="`var/workbench`", default_factory=_workbench_dir)

    # --- rewards ---------------------------------------------------------------------------
    REWARDS_CURRENCY = Tunable(str, "EUR", "the one currency of the pool (integer minor units)", section=REWARDS)
    REWARDS_BASE_POINTS = Tunable(int, 10, "points of an approved photo before the multiplier", section=REWARDS)
    REWARDS_MAX_MULTIPLIER = Tunable(float, 5.0, "cap of the scarcity multiplier", section=REWARDS)
    REWARDS_MONTHLY_POINT_CAP = Tunable(int, 500, "points a contributor can earn per month", section=REWARDS)
    REWARDS_MULTIPLIER_TTL_SECONDS = Tunable(int, 3600, "how often the published multipliers are recomputed",
                                             section=REWARDS, unit="s")
    REWARDS_PAYOUT_PERCENT = Tunable(int, 100, "share of the pool paid out per round", section=REWARDS, unit="%")
    REWARDS_DONATION_INSTRUCTIONS = Tunable(str, "", "text on the donate page (bank details, etc.)",
                                            section=REWARDS)
    WEB_MONETIZATION_POINTER = Tunable(str, "", 'payment pointer: every page carries `<link rel="monetization">`',
                                       section=REWARDS)

    # --- API and accounts ------------------------------------------------------------------
    # No endpoint takes more than a few kilobytes of JSON; the photo itself travels as a file.
    API_JSON_MAX_BYTES = Tunable(int, 256 * 1024, (
        "largest JSON body or JSON form field (413 above); photos travel as files, not JSON"),
        section=API, unit="bytes", shown="256 KB")
    # Categories nest two levels and free text one: 32 leaves room and still stops the hostile.
    API_JSON_MAX_DEPTH = Tunable(int, 32, (
        "deepest nesting of JSON arrays/objects accepted (400 deeper; the decoder would otherwise recurse)"),
        section=API)
    API_TOKEN_TTL_DAYS = Tunable(int, 90, (
        "lifetime of an API token from `/api/v1/auth/token/` or the account page; tokens also die with a "
        'password change or reset and with "log out everywhere"'), section=API, unit="days")

    # --- site and workers (also Django settings) -------------------------------------------
    SITE_NAME = Tunable(str, "Face Commons", "the name in page titles, mails, metadata and the TOTP issuer",
                        section=SITE)
    SITE_URL = Tunable(str, "http://localhost:8000", "absolute links in mails and metadata", section=SITE)
    # The longest task (a snapshot build) is bounded by this hard limit; the Redis visibility
    # timeout must be longer, or Redis would hand a still-running task to a second worker.
    CELERY_LONGEST_TASK_SECONDS = Tunable(int, 3 * 3600, (
        "hard time limit of the longest task (a snapshot build); the Redis visibility timeout is this plus "
        "600 s"), section=SITE, unit="s")


#: The one instance: ``tunables.NAME`` reads the current value of ``NAME``.
tunables = Tunables()


def declared() -> Iterator[Tunable[Any]]:
    """Every tunable, in declaration order."""
    for value in vars(Tunables).values():
        if isinstance(value, Tunable):
            yield value


def get(name: str) -> Any:
    """The current value of the tunable ``name`` (AttributeError if none is declared)."""
    if not isinstance(vars(Tunables).get(name), Tunable):
        raise AttributeError(f"no tunable named {name!r} in facecommons.common.tunables")
    return getattr(tunables, name)
