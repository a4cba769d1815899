"""Low-light assessment and enhancement. A library: never imports Django (nor ``ml``).

    from enhancement import assess
    from ml.registry import create_model
    report = assess(rgb_uint8)                 # LowLightReport
    enh = create_model("zero-dce++")           # or "clahe", "gamma" (ml.registry lists them)
    out = enh.enhance(rgb_uint8)               # same shape, uint8 RGB
    seen = for_detection(reduced_out)          # what a face detector should run on
"""

from enhancement.assess import LowLightReport, assess
from enhancement.base import Enhancer
from enhancement.detection import DETECTION_SIGMA, for_detection

__all__ = ["DETECTION_SIGMA", "Enhancer", "LowLightReport", "assess", "for_detection"]
