"""ml.imageio.resize_long_side: the one resize-to-a-long-side of the project (detectors, pipeline)."""

import numpy as np

from ml.imageio import resize_long_side


def test_resize_long_side_shrinks_and_reports_the_scale():
    img = np.zeros((300, 1200, 3), np.uint8)
    img[:, 600:] = 200
    small, scale = resize_long_side(img, 400)
    assert small.shape == (100, 400, 3) and scale == 400 / 1200
    assert small[:, :190].max() == 0 and small[:, 210:].min() == 200  # the halves stay where they were


def test_resize_long_side_leaves_small_images_and_no_limit_alone():
    img = np.ones((30, 40, 3), np.uint8)
    for limit in (40, 1000, 0):
        same, scale = resize_long_side(img, limit)
        assert same is img and scale == 1.0
