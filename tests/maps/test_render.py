"""Rendering maps: the datashader image is oriented and coloured right; pages subsample; both atomic."""

from __future__ import annotations

import numpy as np
import pytest

from shared.maps.render import render_image, render_map, shade


def _ink(image):
    return (image[..., :3] < 250).any(axis=2)          # not white


def test_shade_puts_points_where_they_are_with_y_up():
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.uniform([-1, 0.5], [-0.5, 1], size=(500, 2)), [[1.0, -1.0]]])   # top-left cloud + 1 corner
    image = shade(xy, width=100, height=100)["image"]
    ink = _ink(image)
    assert image.shape == (100, 100, 4)
    assert ink[:40, :40].sum() > 100                     # top-left quadrant holds the cloud
    assert ink[60:, :].sum() <= 4                         # bottom part holds the one corner point only


def test_categorical_and_continuous_colours():
    xy = np.array([[0.0, 0.0]] * 50 + [[10.0, 10.0]] * 50)
    labels = ["a"] * 50 + ["b"] * 50
    shaded = shade(xy, labels=labels, width=50, height=50)
    assert list(shaded["colours"]) == ["a", "b"] and shaded["colours"]["a"] != shaded["colours"]["b"]
    img = shaded["image"]
    rows, cols = np.nonzero(_ink(img))
    assert rows.tolist() == [0, 49] and cols.tolist() == [49, 0]   # (10, 10) top right, (0, 0) bottom left
    assert tuple(img[49, 0, :3]) != tuple(img[0, 49, :3])           # a and b in different colours
    values = shade(xy, values=np.r_[np.zeros(50), np.ones(50)], width=50, height=50)
    assert values["range"] == (0.0, 1.0)
    many = shade(np.random.default_rng(1).normal(size=(300, 2)), labels=np.arange(300) % 30)
    assert len(many["colours"]) == 20 and "other" in many["colours"]
    with pytest.raises(ValueError, match="not both"):
        shade(xy, labels=labels, values=np.zeros(100))
    with pytest.raises(ValueError, match="shape"):
        shade(np.zeros((5, 3)))


def test_render_map_writes_a_page_and_a_scatter_below_and_a_datashader_image_above_the_threshold(tmp_path):
    rng = np.random.default_rng(2)
    xy = rng.normal(size=(400, 2))
    labels = np.where(xy[:, 0] > 0, "east", "west")
    small = render_map(xy, tmp_path, name="small", labels=labels, hover_text=[f"row {i}" for i in range(400)],
                       image_above=1000, page_points=100)
    assert set(small) == {"page", "image"}
    assert small["image"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = small["page"].read_text()
    assert "scattergl" in page and "100 of 400 points" in page and "row " in page
    big = render_map(xy, tmp_path, name="big", values=xy[:, 1], image_above=300)
    assert set(big) == {"page", "image"}
    assert big["image"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.html", "big.png", "small.html", "small.png"]   # no temp files


def test_render_image_keeps_no_open_figure_on_error(tmp_path):
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    with pytest.raises(ValueError):
        render_image(np.zeros((3, 2)), tmp_path / "x.png", values=[1.0, np.nan, 2.0])
    assert set(plt.get_fignums()) == before
