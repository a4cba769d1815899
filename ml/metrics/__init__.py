"""Bias metrics per demographic group (pure numpy/scipy/fairlearn; never imports Django).

- :mod:`ml.metrics.detection`: IoU matching and detection rates (original, enhanced, effect);
- :mod:`ml.metrics.verification`: pairs, thresholds, FMR/FNMR, DET curves, EER;
- :mod:`ml.metrics.fairness`: Fairness Discrepancy Rate, gender-neutral-style score, ratios;
- :mod:`ml.metrics.intervals`: Wilson intervals and the seeded subject bootstrap;
- :mod:`ml.metrics.groups`: which group a photo or pair belongs to, and the result rows.
"""

from ml.metrics.detection import detection_metrics, iou, matched_face, proportion_metrics
from ml.metrics.fairness import fairness_discrepancy_rate, gn_score, max_pairwise_gap, worst_best_ratio
from ml.metrics.groups import (
    ALL,
    CATEGORIES,
    INTERSECTIONS,
    OVERALL,
    SUMMARY,
    Curve,
    GroupSpec,
    MetricRow,
    default_specs,
    explode,
    explode_pairs,
    group_values,
)
from ml.metrics.intervals import percentile_interval, subject_weights, wilson
from ml.metrics.verification import (
    Pairs,
    det_curve,
    equal_error_rate,
    error_rates,
    make_pairs,
    pair_distances,
    threshold_at_fmr,
    verification_metrics,
)

__all__ = [
    "ALL", "CATEGORIES", "INTERSECTIONS", "OVERALL", "SUMMARY", "Curve", "GroupSpec", "MetricRow", "Pairs",
    "default_specs", "det_curve", "detection_metrics", "equal_error_rate", "error_rates", "explode", "explode_pairs",
    "fairness_discrepancy_rate", "gn_score", "group_values", "iou", "make_pairs", "matched_face",
    "max_pairwise_gap", "pair_distances", "percentile_interval", "proportion_metrics", "subject_weights",
    "threshold_at_fmr", "verification_metrics", "wilson", "worst_best_ratio",
]
