"""Face detector registry (timm-style): ``create_detector(name)`` and ``list_detectors()``."""

from ml.detectors.base import (
    Detection,
    Detector,
    DetectorUnavailable,
    create_detector,
    list_detectors,
    register_detector,
)

__all__ = ["Detection", "Detector", "DetectorUnavailable", "create_detector", "list_detectors", "register_detector"]
