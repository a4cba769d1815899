"""The low-light stress test of every evaluation: dark copies per light level, the platform's
enhancement, per-group rates and the share won back, cached like every other result."""

from __future__ import annotations

import numpy as np
import pytest

from facecommons.evaluation import services, stress
from facecommons.evaluation.models import MetricResult, ModelResult
from ml.detectors import Detection
from ml.metrics.lowlight import lowlight_metrics
from tests.evaluation.conftest import FACE, register_fake

pytestmark = pytest.mark.django_db


class LightHungryDetector:
    """Finds the astronaut's face only where the face region is bright enough: a dark copy
    loses it, an enhanced copy brings it back."""

    model_id = "test-light"
    version = "1"
    license = "test"
    weights_source = "none"
    calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        type(self).calls += 1
        s = image.shape[1] / 512
        x1, y1, x2, y2 = (int(v * s) for v in FACE["box"])
        if image[y1:y2, x1:x2].mean() < 60:
            return []
        return [Detection(box=tuple(v * s for v in FACE["box"]), score=0.99,  # type: ignore[arg-type]
                          landmarks=tuple((x * s, y * s) for x, y in FACE["landmarks"]))]


@pytest.fixture
def light_detector(settings):

    settings.EVAL_LOWLIGHT_LEVELS = "0.03"
    settings.EVAL_MIN_GROUP_SIZE = 4
    LightHungryDetector.calls = 0
    register_fake("test-light", "detector", lambda **kw: LightHungryDetector())
    return LightHungryDetector


def _finish(run):
    for chunk in run.chunks.order_by("index"):
        services.chunk_process(chunk_id=chunk.pk)
    assert services.run_try_begin_finalise(run_id=run.pk)
    return services.run_finalise(run_id=run.pk)


def _m(run, metric, category, value):
    return MetricResult.objects.get(run=run, model_id="test-light", metric=metric, category=category, value=value)


def test_stress_rates_won_back_and_cache(approved_photo, make_user, light_detector, client):
    for i in range(8):
        approved_photo(i, owner=make_user(), categories={"gender": "woman" if i % 2 else "man", "skin_tone": "9",
                                                         "ethnicity": ["black"], "age_range": "25_34"})
    run = _finish(services.evaluation_run_start(models=["test-light"]))
    assert run.status == "done"
    tag = stress.config_tag()
    # Every photo: lit + dark + enhanced at the one level.
    assert light_detector.calls == 8 * 3
    assert ModelResult.objects.filter(variant=stress.variant(0.03, False, tag)).count() == 8
    assert _m(run, "detection_rate", "all", "all").estimate == 1.0
    dark, enh = _m(run, "lowlight_rate@0.03", "gender", "woman"), _m(run, "lowlight_enhanced_rate@0.03", "gender", "woman")
    assert (dark.n, enh.n) == (4, 4)
    assert dark.estimate == 0.0 and enh.estimate == 1.0  # darkness loses the face, the enhancement finds it again
    won = _m(run, "lowlight_won_back@0.03", "all", "all")
    assert won.estimate == 1.0 and won.n == 8
    assert run.summary["models"]["test-light"]["lowlight"]["levels"] == [0.03]

    page = client.get("/dashboard/").content.decode()
    assert "Low-light stress test" in page and "light ×0.03" in page
    # Each rate is drawn as a bar beside its number: the women's dark copies 0, enhanced 1.
    assert '<meter class="ll-bar" min="0" max="1" value="0.000000" aria-hidden="true"></meter> 0.00' in page
    assert '<meter class="ll-bar" min="0" max="1" value="1.000000" aria-hidden="true"></meter> 1.00' in page

    # A re-run after one new photo computes only that photo's results (lit, dark, enhanced).
    approved_photo(99, owner=make_user(), categories={"gender": "man", "skin_tone": "9", "ethnicity": ["black"],
                                                      "age_range": "25_34"})
    light_detector.calls = 0
    again = _finish(services.evaluation_run_start(models=["test-light"]))
    assert light_detector.calls == 3 and again.items_total == 9
    assert _m(again, "lowlight_won_back@0.03", "all", "all").n == 9


def test_lowlight_metrics_share_won_back_per_group():
    lit = np.array([1, 1, 1, 1, 1, 1, 0, 1], dtype=float)
    dark = {0.01: np.array([0, 0, 0, 0, 1, 1, 0, 1], dtype=float)}
    enh = {0.01: np.array([1, 0, 0, 0, 1, 1, 0, 1], dtype=float)}
    labels = [{"gender": "woman"}] * 4 + [{"gender": "man"}] * 4
    rows = lowlight_metrics(lit, dark, enh, labels, [str(i) for i in range(8)], min_group_size=2, n_boot=50)
    get = {(r.category, r.value, r.metric): r for r in rows}
    assert get[("gender", "woman", "lowlight_won_back@0.01")].estimate == pytest.approx(0.25)  # 1 of 4 lost faces
    man = get[("gender", "man", "lowlight_won_back@0.01")]
    assert man.estimate is None and man.note == "no loss to win back"
    assert get[("gender", "woman", "lowlight_enhanced_rate@0.01")].estimate == 0.25
    assert get[("all", "all", "lowlight_rate@0.01")].n == 8
