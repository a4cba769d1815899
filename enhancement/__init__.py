"""Low-light assessment and enhancement. A library: never imports Django.

    from enhancement import assess, create_enhancer
    report = assess(rgb_uint8)                 # LowLightReport
    enh = create_enhancer("zero-dce++")        # or "clahe", "gamma"
    out = enh.enhance(rgb_uint8)               # same shape, uint8 RGB
"""

from enhancement.assess import LowLightReport, assess
from enhancement.base import Enhancer, create_enhancer, list_enhancers, register_enhancer

__all__ = ["Enhancer", "LowLightReport", "assess", "create_enhancer", "list_enhancers", "register_enhancer"]
