"""Low-light assessment and enhancement. A library: never imports Django.

    from enhancement import assess, create_enhancer
    report = assess(rgb_uint8)                 # LowLightReport
    enh = create_enhancer("zero-dce++")        # or "clahe", "gamma"
    out = enh.enhance(rgb_uint8)               # same shape, uint8 RGB
    seen = for_detection(reduced_out)          # what a face detector should run on
"""

from enhancement.assess import LowLightReport, assess
from enhancement.base import Enhancer, create_enhancer, list_enhancers, register_enhancer
from enhancement.detection import DETECTION_SIGMA, for_detection

__all__ = ["DETECTION_SIGMA", "Enhancer", "LowLightReport", "assess", "create_enhancer", "for_detection",
           "list_enhancers", "register_enhancer"]
