"""Face detectors: one interface (``Detector``); they are listed and built by ``ml.registry``."""

from ml.detectors.base import Detection, Detector, DetectorUnavailable

__all__ = ["Detection", "Detector", "DetectorUnavailable"]
