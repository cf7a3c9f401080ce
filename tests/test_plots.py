"""Tests for lib.plots: every helper gives a titled plot that renders to SVG."""

import numpy as np
import pytest
from lets_plot import gggrid
from lets_plot.plot.core import PlotSpec

from lib import plots

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((30, 2))
Y2 = (X2.sum(axis=1) > 0).astype(int)
DIGITS = RNG.random((12, 64))

BUILDERS = {
    "loss_curve": lambda title: plots.loss_curve(
        np.linspace(1, 0.1, 20),
        title=title,
        xlab="gradient-descent step",
        ylab="loss (mean cross-entropy, nats)",
    ),
    "loss_curves": lambda title: plots.loss_curve(
        {"train": np.linspace(1, 0.1, 20), "validation": np.linspace(1, 0.3, 15)},
        title=title,
        log_y=True,
    ),
    "decision_boundary_plot": lambda title: plots.decision_boundary_plot(
        X2, Y2, {"true": (0.0, -1.0), "fitted": (0.2, -0.9)}, title=title
    ),
    "trajectories": lambda title: plots.trajectories(
        np.cumsum(RNG.standard_normal((25, 3)), axis=0), title=title
    ),
    "confusion_matrix_plot": lambda title: plots.confusion_matrix_plot(
        [0, 1, 2, 2, 1], [0, 2, 2, 2, 1], title=title
    ),
    "digit_grid": lambda title: plots.digit_grid(
        DIGITS, labels=list(range(12)), ncol=5, title=title
    ),
    "bar_chart": lambda title: plots.bar_chart(
        {"logistic": 0.91, "k-NN": 0.95}, title=title, xlab="model", ylab="accuracy"
    ),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_helper_returns_a_plot_whose_svg_shows_the_title(name):
    title = f"Title of {name}"
    plot = BUILDERS[name](title)
    assert isinstance(plot, PlotSpec)
    svg = plots.to_svg(plot)
    assert svg.lstrip().startswith("<svg")
    assert title in svg
    assert "<script" not in svg


@pytest.mark.parametrize("name", BUILDERS)
def test_helper_sets_a_size(name):
    assert "ggsize" in BUILDERS[name]("t").as_dict()


def test_axis_labels_appear_in_the_svg():
    svg = plots.to_svg(BUILDERS["loss_curve"]("Loss"))
    assert "gradient-descent step" in svg
    assert "loss (mean cross-entropy, nats)" in svg


def test_setup_makes_notebook_output_static_svg():
    """After setup, is a plot's notebook HTML an SVG image without JavaScript?"""
    plots.setup()
    html = BUILDERS["bar_chart"]("Static")._repr_html_()
    assert "<svg" in html
    assert "Static" in html
    assert "<script" not in html


# --- loss_curve ----------------------------------------------------------------------


def test_loss_curve_of_several_curves_has_one_colour_per_curve():
    plot = plots.loss_curve({"a": [3, 2, 1], "b": [2, 1]})
    assert plot.as_dict()["mapping"]["color"] == "curve"
    assert plot.as_dict()["data"]["curve"] == ["a"] * 3 + ["b"] * 2


def test_loss_curve_rejects_2d_curves():
    with pytest.raises(ValueError, match=r"curve 'b' must be a non-empty 1-d array"):
        plots.loss_curve({"a": [1, 2], "b": np.ones((2, 2))})


def test_loss_curve_log_scale_needs_positive_values():
    with pytest.raises(ValueError, match="values <= 0"):
        plots.loss_curve([1.0, 0.0], log_y=True)


# --- decision_boundary_plot ----------------------------------------------------------


def test_decision_boundary_plot_draws_one_abline_per_line():
    plot = plots.decision_boundary_plot(X2, Y2, {"a": (1, 2), "b": (3, 4)})
    layers = [layer for layer in plot.as_dict()["layers"] if layer["geom"] == "abline"]
    assert len(layers) == 1
    assert layers[0]["data"] == {
        "intercept": [1.0, 3.0],
        "slope": [2.0, 4.0],
        "line": ["a", "b"],
    }


def test_decision_boundary_plot_without_lines_is_a_scatter():
    geoms = [
        layer["geom"]
        for layer in plots.decision_boundary_plot(X2, Y2).as_dict()["layers"]
    ]
    assert geoms == ["point"]


@pytest.mark.parametrize(
    ("X", "y", "lines", "message"),
    [
        (np.zeros((5, 3)), np.zeros(5), None, r"X must have shape \(n_samples, 2\)"),
        (np.zeros((5, 2)), np.zeros(4), None, r"y must have shape \(5,\)"),
        (
            np.zeros((5, 2)),
            np.zeros(5),
            {"w": (1, 2, 3)},
            r"lines\['w'\] must be a pair",
        ),
        (
            np.zeros((5, 2)),
            np.zeros(5),
            {"w": (1, np.inf)},
            r"lines\['w'\] must be finite",
        ),
    ],
)
def test_decision_boundary_plot_rejects_bad_input(X, y, lines, message):
    with pytest.raises(ValueError, match=message):
        plots.decision_boundary_plot(X, y, lines)


# --- trajectories ------------------------------------------------------------------


def test_trajectories_has_one_line_per_parameter():
    plot = plots.trajectories(np.zeros((4, 3)), names=["b", "w1", "w2"])
    assert plot.as_dict()["data"]["parameter"] == ["b"] * 4 + ["w1"] * 4 + ["w2"] * 4


def test_trajectories_names_must_match_parameters():
    with pytest.raises(ValueError, match="names must have 3 entries"):
        plots.trajectories(np.zeros((4, 3)), names=["a", "b"])


# --- confusion_matrix_plot ---------------------------------------------------------


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    plot = plots.confusion_matrix_plot([0, 1, 1, 2, 2, 2], [0, 1, 0, 2, 2, 1])
    d = plot.as_dict()["data"]
    counts = {
        (t, p): c for t, p, c in zip(d["true"], d["predicted"], d["count"], strict=True)
    }
    assert counts[("1", "0")] == 1  # one true 1 predicted as 0
    assert counts[("2", "1")] == 1
    assert counts[("2", "2")] == 2
    assert sum(counts.values()) == 6


def test_confusion_matrix_uses_the_given_labels_in_order():
    plot = plots.confusion_matrix_plot(
        ["cat", "dog"], ["dog", "dog"], labels=["dog", "cat", "bird"]
    )
    d = plot.as_dict()["data"]
    assert d["true"][:3] == ["dog"] * 3
    assert d["predicted"][:3] == ["dog", "cat", "bird"]
    assert d["count"].tolist() == [1, 0, 0, 1, 0, 0, 0, 0, 0]


def test_confusion_matrix_rejects_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        plots.confusion_matrix_plot([0, 1], [0])


# --- digit_grid ----------------------------------------------------------------------


def image_extent(plot):
    """(width, height) in pixels of the tiled image of a digit_grid plot."""
    layer = plot.as_dict()["layers"][0]
    return layer["xmax"] - layer["xmin"], layer["ymax"] - layer["ymin"]


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        (np.zeros((3, 784)), (3 * 29 - 1, 28)),  # 784 -> 28 x 28
        (np.zeros((3, 64)), (3 * 9 - 1, 8)),  # 64 -> 8 x 8
        (np.zeros((3, 5, 7)), (3 * 8 - 1, 5)),  # 3-d: shape as given
        (np.zeros((25, 64)), (10 * 9 - 1, 3 * 9 - 1)),  # 3 rows of at most 10
    ],
)
def test_digit_grid_infers_the_image_shape(images, expected):
    assert image_extent(plots.digit_grid(images)) == expected


def test_digit_grid_uses_an_explicit_shape():
    assert image_extent(plots.digit_grid(np.zeros((2, 50)), shape=(5, 10))) == (21, 5)


def test_digit_grid_cannot_infer_a_non_square_shape():
    with pytest.raises(ValueError, match=r"rows of 50 pixels .* pass shape="):
        plots.digit_grid(np.zeros((2, 50)))


def test_digit_grid_rejects_a_mismatched_shape():
    with pytest.raises(ValueError, match=r"shape \(8, 8\) does not match"):
        plots.digit_grid(np.zeros((2, 784)), shape=(8, 8))


def test_digit_grid_draws_one_image_layer_and_the_labels():
    plot = plots.digit_grid(np.zeros((4, 784)), labels=[7, 2, 1, 0])
    layers = plot.as_dict()["layers"]
    assert [layer["geom"] for layer in layers] == ["image", "text"]
    assert layers[1]["data"]["label"] == ["7", "2", "1", "0"]
    assert all(label in plots.to_svg(plot) for label in "7210")


def test_digit_grid_labels_must_match_images():
    with pytest.raises(ValueError, match="labels must have 4 entries"):
        plots.digit_grid(np.zeros((4, 64)), labels=[1, 2])


# --- bar_chart -----------------------------------------------------------------------


def test_bar_chart_keeps_the_order_and_writes_the_values():
    plot = plots.bar_chart({"b": 0.5, "a": 0.25}, title="T", xlab="x", ylab="y")
    assert plot.as_dict()["data"]["name"] == ["b", "a"]
    svg = plots.to_svg(plot)
    assert "0.5" in svg and "0.25" in svg


def test_bar_chart_rejects_non_finite_values():
    with pytest.raises(ValueError, match=r"values\['a'\] must be a finite number"):
        plots.bar_chart({"a": float("nan")}, title="T", xlab="x", ylab="y")


# --- export --------------------------------------------------------------------------


def test_to_svg_renders_a_grid_of_plots():
    grid = gggrid([BUILDERS["bar_chart"]("Left"), BUILDERS["loss_curve"]("Right")])
    svg = plots.to_svg(grid)
    assert "<svg" in svg and "Left" in svg and "Right" in svg


def test_to_svg_rejects_non_plots():
    with pytest.raises(TypeError, match="must be a lets-plot plot"):
        plots.to_svg("<svg></svg>")


def test_save_html_writes_a_static_page_with_every_plot(tmp_path):
    titles = [f"Plot number {i}" for i in range(3)]
    path = plots.save_html(
        [BUILDERS["bar_chart"](t) for t in titles],
        tmp_path / "report.html",
        title="Run & report",
    )
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Run &amp; report</title>" in page
    assert all(t in page for t in titles)
    assert page.count("<svg") >= 3
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/", "")


def test_save_html_writes_headings_and_creates_directories(tmp_path):
    path = tmp_path / "reports" / "week1.html"
    plots.save_html({"Training loss": BUILDERS["loss_curve"]("Loss")}, path)
    page = path.read_text(encoding="utf-8")
    assert "<h2>Training loss</h2>" in page and "<script" not in page


def test_save_html_accepts_a_single_plot(tmp_path):
    path = plots.save_html(BUILDERS["digit_grid"]("Grid"), tmp_path / "one.html")
    assert "Grid" in path.read_text(encoding="utf-8")
