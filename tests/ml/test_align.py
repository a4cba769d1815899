import cv2
import numpy as np
import pytest

from ml.align import ARCFACE_112, align_face, alignment_matrix, template, umeyama


def test_umeyama_recovers_a_known_similarity():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 200, (5, 2))
    angle, scale, t = np.deg2rad(23.0), 1.7, np.array([12.5, -40.0])
    r = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ r.T + t
    m = umeyama(src, dst)
    assert np.allclose(m[:, :2], scale * r, atol=1e-9) and np.allclose(m[:, 2], t, atol=1e-9)
    # Noise-free points map exactly; noisy ones in the least-squares sense (still close).
    noisy = dst + rng.normal(0, 0.5, dst.shape)
    m2 = umeyama(src, noisy)
    assert np.allclose(m2[:, :2], scale * r, atol=0.02)


def test_never_a_reflection():
    src = np.array([[0, 0], [1, 0], [0, 1]], float)
    dst = src * [-1, 1]  # a mirror image: best similarity is not the reflection
    m = umeyama(src, dst)
    assert np.linalg.det(m[:, :2]) > 0


def test_align_face_puts_landmarks_on_the_template():
    # Draw five dots where a rotated, scaled, shifted template would be, then align.
    angle, scale, t = np.deg2rad(-15.0), 3.2, np.array([140.0, 90.0])
    r = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = scale * ARCFACE_112 @ r.T + t
    img = np.zeros((600, 600, 3), np.uint8)
    for x, y in pts:
        cv2.circle(img, (int(round(x)), int(round(y))), 6, (255, 255, 255), -1)
    for size in (112, 224):
        crop = align_face(img, pts, size)
        assert crop.shape == (size, size, 3)
        for tx, ty in template(size):
            assert crop[int(round(ty)), int(round(tx))].mean() > 200  # each dot lands on its template point
        m = alignment_matrix(pts, size)
        mapped = pts @ m[:, :2].T + m[:, 2]
        assert np.allclose(mapped, template(size), atol=1e-6)
    assert np.allclose(template(224), ARCFACE_112 * 2)


def test_needs_five_points():
    with pytest.raises(ValueError):
        alignment_matrix(np.zeros((4, 2)))
