"""Plots shared by the notebooks and reports, drawn with lets-plot.

Every function returns a lets-plot ``PlotSpec`` with a title, axis labels and a
size; add layers or themes with ``+`` as usual. Call `setup` once at the top of
a notebook so that plots are shown as static SVG, and use `to_svg` or
`save_html` to export them.
"""

import html
import math
import numbers
from pathlib import Path

import numpy as np
from lets_plot import (
    LetsPlot,
    aes,
    element_blank,
    geom_abline,
    geom_bar,
    geom_imshow,
    geom_line,
    geom_point,
    geom_text,
    geom_tile,
    ggplot,
    ggsize,
    labs,
    scale_color_manual,
    scale_fill_gradient,
    scale_x_discrete,
    scale_y_continuous,
    scale_y_discrete,
    scale_y_log10,
    theme,
    theme_void,
)


def setup():
    """Make notebooks show lets-plot plots as static SVG images.

    Calls ``LetsPlot.setup_html(no_js=True)``. Afterwards a plot's
    ``_repr_html_()`` (what Jupyter puts in the cell output as ``text/html``)
    is a bare ``<svg ...>...</svg>`` element: no ``<script>``, no wrapping
    ``<div>``, no JavaScript library to load. Notebooks therefore render
    offline, in exported HTML and in nbgrader feedback, at the cost of
    interactivity (no tooltips, zooming or panning). The SVG is the same as
    `to_svg` returns, except that its element ids are random, so re-running a
    notebook changes the output bytes even when the plot is unchanged.

    The setting is global for the Python process.
    """
    LetsPlot.setup_html(no_js=True)


def loss_curve(curves, *, title="Loss", xlab="step", ylab="loss", log_y=False):
    """Plot one or several loss curves against the step number.

    Parameters
    ----------
    curves : array_like of shape (n_steps,) or dict of str to array_like
        One curve, or several curves by name (drawn in colour, with a legend).
        Curves may have different lengths; point ``i`` is drawn at step ``i``.
    title : str, default="Loss"
        Plot title.
    xlab : str, default="step"
        x-axis label, e.g. "gradient-descent step" or "epoch".
    ylab : str, default="loss"
        y-axis label, e.g. "loss (mean cross-entropy, nats)".
    log_y : bool, default=False
        Use a logarithmic y axis; all values must then be > 0.

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If a curve is not 1-d or empty, or ``log_y`` is set and a value is
        not > 0.
    """
    named = isinstance(curves, dict)
    if not named:
        curves = {"": curves}
    if not curves:
        raise ValueError("curves must not be an empty dict.")
    step, value, name = [], [], []
    for key, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        label = f"curve {key!r}" if named else "curve"
        if curve.ndim != 1 or curve.size == 0:
            raise ValueError(
                f"{label} must be a non-empty 1-d array, got shape {curve.shape} "
                "instead."
            )
        if log_y and not np.all(curve > 0):
            raise ValueError(
                f"{label} has values <= 0 (or NaN), which a log scale cannot show; "
                "use log_y=False."
            )
        step.append(np.arange(curve.size))
        value.append(curve)
        name.extend([str(key)] * curve.size)
    data = {"step": np.concatenate(step), "value": np.concatenate(value)}
    if named:
        data["curve"] = name
        plot = ggplot(data, aes("step", "value", color="curve")) + geom_line(size=1)
    else:
        plot = ggplot(data, aes("step", "value")) + geom_line(size=1, color="#1f77b4")
    if log_y:
        plot += scale_y_log10()
    return plot + labs(title=title, x=xlab, y=ylab, color="") + ggsize(640, 380)


def decision_boundary_plot(
    X, y, lines=None, *, title="Decision boundary", xlab="x1", ylab="x2"
):
    """Scatter 2-d points coloured by class, with straight decision boundaries.

    Parameters
    ----------
    X : array_like of shape (n_samples, 2)
        The points.
    y : array_like of shape (n_samples,)
        Their class labels (any values; shown as categories).
    lines : dict of str to (float, float), optional
        Lines to draw, by name: ``(intercept, slope)`` of the line
        ``x2 = intercept + slope * x1``. For a linear classifier with weights
        ``(w0, w1, w2)`` (``w0`` the bias) the boundary has intercept
        ``-w0 / w2`` and slope ``-w1 / w2``. Vertical lines cannot be drawn.
    title : str, default="Decision boundary"
        Plot title.
    xlab, ylab : str, default="x1", "x2"
        Axis labels.

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If ``X`` is not of shape (n_samples, 2), ``y`` does not have
        n_samples entries, or a line is not a pair of finite numbers.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape} instead.")
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},) to match X, got {y.shape} instead."
        )
    points = {"x1": X[:, 0], "x2": X[:, 1], "class": [str(v) for v in y]}
    plot = ggplot() + geom_point(
        aes("x1", "x2", color="class"), data=points, size=2.5, alpha=0.8
    )
    if lines:
        intercepts, slopes = [], []
        for name, line in lines.items():
            try:
                intercept, slope = (float(v) for v in line)
            except (TypeError, ValueError):
                raise ValueError(
                    f"lines[{name!r}] must be a pair (intercept, slope), "
                    f"got {line!r} instead."
                ) from None
            if not (math.isfinite(intercept) and math.isfinite(slope)):
                raise ValueError(
                    f"lines[{name!r}] must be finite, got {line!r} instead."
                )
            intercepts.append(intercept)
            slopes.append(slope)
        plot += geom_abline(
            aes(intercept="intercept", slope="slope", linetype="line"),
            data={"intercept": intercepts, "slope": slopes, "line": list(lines)},
            size=1.2,
        )
    return plot + labs(title=title, x=xlab, y=ylab) + ggsize(560, 460)


def trajectories(
    thetas,
    *,
    names=None,
    title="Parameter trajectories",
    xlab="step",
    ylab="parameter value",
):
    """Plot each parameter's value over the steps of an optimiser.

    Parameters
    ----------
    thetas : array_like of shape (n_steps, n_params) or (n_steps,)
        Parameter vectors, one row per step (a 1-d array is one parameter).
    names : sequence of str of length n_params, optional
        Parameter names for the legend; default "θ0", "θ1", ...
    title : str, default="Parameter trajectories"
        Plot title.
    xlab, ylab : str, default="step", "parameter value"
        Axis labels.

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If ``thetas`` is not 1-d or 2-d, is empty, or ``names`` has the wrong
        length.
    """
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim == 1:
        thetas = thetas[:, None]
    if thetas.ndim != 2 or thetas.size == 0:
        raise ValueError(
            "thetas must be a non-empty array of shape (n_steps, n_params), "
            f"got shape {thetas.shape} instead."
        )
    n_steps, n_params = thetas.shape
    if names is None:
        names = [f"θ{j}" for j in range(n_params)]
    names = [str(name) for name in names]
    if len(names) != n_params:
        raise ValueError(
            f"names must have {n_params} entries (one per column of thetas), "
            f"got {len(names)} instead."
        )
    data = {
        "step": np.tile(np.arange(n_steps), n_params),
        "value": thetas.T.ravel(),
        "parameter": np.repeat(names, n_steps).tolist(),
    }
    return (
        ggplot(data, aes("step", "value", color="parameter"))
        + geom_line(size=1)
        + labs(title=title, x=xlab, y=ylab, color="")
        + ggsize(640, 380)
    )


def confusion_matrix_plot(y_true, y_pred, *, labels=None, title="Confusion matrix"):
    """Draw a confusion matrix as a heat map with the counts in the cells.

    Rows (y axis, top to bottom) are true labels, columns (x axis) predicted
    labels, so the diagonal holds the correct predictions.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        True labels.
    y_pred : array_like of shape (n_samples,)
        Predicted labels.
    labels : array_like of shape (n_classes,), optional
        The labels to show, in this order. Samples whose true or predicted label
        is not among them are not counted. Default: every label that occurs in
        ``y_true`` or ``y_pred``, sorted.
    title : str, default="Confusion matrix"
        Plot title.

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` are not 1-d of the same length, or
        ``labels`` is empty or has duplicates.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must be 1-d of the same length, got shapes "
            f"{y_true.shape} and {y_pred.shape} instead."
        )
    if labels is None:
        labels = np.union1d(y_true, y_pred)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d array, got {labels!r}.")
    if np.unique(labels).size != labels.size:
        raise ValueError(f"labels must not repeat, got {labels!r}.")
    k = labels.size
    sorter = np.argsort(labels, kind="stable")

    def index_of(values):
        pos = np.clip(np.searchsorted(labels, values, sorter=sorter), 0, k - 1)
        idx = sorter[pos]
        return np.where(labels[idx] == values, idx, -1)

    i, j = index_of(y_true), index_of(y_pred)
    keep = (i >= 0) & (j >= 0)
    counts = np.bincount(i[keep] * k + j[keep], minlength=k * k).reshape(k, k)

    names = [str(v) for v in labels]
    true_col = np.repeat(names, k).tolist()
    pred_col = np.tile(names, k).tolist()
    flat = counts.ravel()
    dark = flat > flat.max() / 2
    data = {
        "true": true_col,
        "predicted": pred_col,
        "count": flat,
        "text": np.where(dark, "light", "dark").tolist(),
    }
    size = min(640, 220 + 48 * k)
    return (
        ggplot(data, aes("predicted", "true"))
        + geom_tile(aes(fill="count"), color="white", size=0.5)
        + geom_text(aes(label="count", color="text"), size=8 if k <= 5 else 6)
        + scale_fill_gradient(low="#f7fbff", high="#08306b", name="count")
        + scale_color_manual(values={"light": "white", "dark": "#222222"}, guide="none")
        + scale_x_discrete(limits=names, expand=[0, 0])
        + scale_y_discrete(limits=names[::-1], expand=[0, 0])
        + labs(title=title, x="predicted label", y="true label")
        + theme(panel_grid=element_blank(), axis_line=element_blank())
        + ggsize(size + 80, size)
    )


def digit_grid(images, labels=None, *, ncol=10, shape=None, title="Digits"):
    """Show images, e.g. handwritten digits, in a grid.

    The images are tiled into one greyscale image (dark background, light
    strokes, as stored), with a 1-pixel gap between tiles, and drawn with a
    single ``geom_imshow`` layer. Grey levels are scaled to the range of all
    the images together.

    Parameters
    ----------
    images : array_like of shape (n_images, rows * cols) or (n_images, rows, cols)
        The images, as rows of a data matrix (row-major pixels) or as 2-d
        arrays.
    labels : sequence of length n_images, optional
        Text written above each image, e.g. the digit or "7 → 1" for a
        mistake.
    ncol : int, default=10
        Number of images per row of the grid.
    shape : tuple of int (rows, cols), optional
        The shape of one image, for flat rows that are not square images.
        Default: from ``images`` if 3-d, else a square of the row length
        (784 → 28 x 28, 64 → 8 x 8).
    title : str, default="Digits"
        Plot title.

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If there are no images, the image shape cannot be inferred or does not
        match, ``ncol`` is not a positive integer, or ``labels`` has the wrong
        length.
    """
    images = np.asarray(images, dtype=float)
    if images.ndim not in (2, 3) or images.shape[0] == 0:
        raise ValueError(
            "images must be a non-empty array of shape (n_images, rows * cols) or "
            f"(n_images, rows, cols), got shape {images.shape} instead."
        )
    n = images.shape[0]
    if shape is None:
        if images.ndim == 3:
            shape = images.shape[1:]
        else:
            side = math.isqrt(images.shape[1])
            if side * side != images.shape[1]:
                raise ValueError(
                    f"cannot infer the image shape from rows of {images.shape[1]} "
                    "pixels (not a square number); pass shape=(rows, cols)."
                )
            shape = (side, side)
    rows, cols = (int(s) for s in shape)
    if rows * cols != math.prod(images.shape[1:]):
        raise ValueError(
            f"shape {tuple(shape)} does not match images of shape {images.shape}."
        )
    if isinstance(ncol, bool) or not isinstance(ncol, numbers.Integral) or ncol < 1:
        raise ValueError(f"ncol must be a positive integer, got {ncol!r} instead.")
    if labels is not None and len(labels) != n:
        raise ValueError(
            f"labels must have {n} entries (one per image), got {len(labels)} instead."
        )
    images = images.reshape(n, rows, cols)

    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    band = 0 if labels is None else max(3, round(0.4 * rows))  # text above tiles
    cell_h, cell_w = band + rows + 1, cols + 1
    height, width = nrow * cell_h - 1, ncol * cell_w - 1
    canvas = np.full((height, width), np.nan)  # NaN pixels are transparent
    for k in range(n):
        top, left = (k // ncol) * cell_h + band, (k % ncol) * cell_w
        canvas[top : top + rows, left : left + cols] = images[k]

    vmin, vmax = float(images.min()), float(images.max())
    if vmin == vmax:
        vmax = vmin + 1.0
    scale = max(1.0, min(640 / width, 900 / height, 6.0))  # screen px per pixel
    # Browsers smooth scaled-up images; enlarging small images by an integer
    # factor first keeps the pixel edges sharp.
    factor = max(1, int(scale // 2))
    canvas = np.repeat(np.repeat(canvas, factor, axis=0), factor, axis=1)
    plot = ggplot() + geom_imshow(
        canvas,
        vmin=vmin,
        vmax=vmax,
        extent=[-0.5, width - 0.5, -0.5, height - 0.5],
        show_legend=False,
    )
    if labels is not None:
        # geom_imshow puts pixel (r, c) at x = c, y = height - 1 - r.
        k = np.arange(n)
        text = {
            "x": (k % ncol) * cell_w + (cols - 1) / 2,
            "y": height - 1 - ((k // ncol) * cell_h + (band - 1) / 2),
            "label": [str(v) for v in labels],
        }
        plot += geom_text(aes("x", "y", label="label"), data=text, size=7)

    return (
        plot
        + theme_void()
        + labs(title=title)
        + ggsize(round(width * scale) + 20, round(height * scale) + 40)
    )


def bar_chart(values, *, title, xlab, ylab):
    """Draw a bar chart of named numbers, e.g. scores or accuracies.

    Bars are in the order of ``values`` and labelled with their value.

    Parameters
    ----------
    values : dict of str to float
        The numbers, by name (anything ``dict()`` accepts, e.g. a pandas
        Series).
    title : str
        Plot title.
    xlab : str
        x-axis label (what the names are, e.g. "model").
    ylab : str
        y-axis label (what the numbers are, with units, e.g. "test accuracy").

    Returns
    -------
    plot : lets_plot.plot.core.PlotSpec

    Raises
    ------
    ValueError
        If ``values`` is empty or a value is not a finite number.
    """
    values = dict(values)
    if not values:
        raise ValueError("values must be a non-empty dict of name -> number.")
    names = [str(k) for k in values]
    numbers = []
    for key, v in values.items():
        try:
            v = float(v)
        except (TypeError, ValueError):
            v = math.nan
        if not math.isfinite(v):
            raise ValueError(
                f"values[{key!r}] must be a finite number, got {values[key]!r}."
            )
        numbers.append(v)
    data = {
        "name": names,
        "value": numbers,
        "text": [f"{v:.4g}" for v in numbers],
        "vjust": [-0.5 if v >= 0 else 1.5 for v in numbers],
    }
    # Room for the value labels beyond the longest bars.
    low, high = min(0.0, *numbers), max(0.0, *numbers)
    pad = 0.12 * ((high - low) or 1.0)
    limits = [low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0]
    return (
        ggplot(data, aes("name", "value"))
        + geom_bar(stat="identity", fill="#4c78a8", width=0.7)
        + geom_text(aes(label="text", vjust="vjust"), size=6)
        + scale_x_discrete(limits=names)
        + scale_y_continuous(limits=limits, expand=[0, 0])
        + labs(title=title, x=xlab, y=ylab)
        + ggsize(min(900, 200 + 70 * len(names)), 380)
    )


def to_svg(plot):
    """Render a plot as an SVG document.

    Parameters
    ----------
    plot : lets_plot.plot.core.PlotSpec or lets_plot.plot.subplots.SupPlotsSpec
        A plot, or a grid of plots from ``gggrid``.

    Returns
    -------
    svg : str
        The ``<svg>`` element, self-contained (styles inline, images as data
        URIs), without JavaScript. Its element ids are random, so two renderings
        of the same plot differ in those ids only.

    Raises
    ------
    TypeError
        If ``plot`` is not a lets-plot plot.
    """
    if not callable(getattr(plot, "to_svg", None)):
        raise TypeError(
            f"plot must be a lets-plot plot (PlotSpec or SupPlotsSpec), "
            f"got {type(plot).__name__} instead."
        )
    return plot.to_svg()


def save_html(plots, path, *, title="Plots"):
    """Write plots to a standalone HTML page as inline SVG.

    The page has no JavaScript and loads nothing from the network, so it can
    be opened offline or attached to a report.

    Parameters
    ----------
    plots : plot, sequence of plots or dict of str to plot
        lets-plot plots (``PlotSpec`` or ``SupPlotsSpec``). With a dict, each
        key is written as a heading above its plot.
    path : str or path-like
        The HTML file to write (overwritten); missing parent directories are
        created.
    title : str, default="Plots"
        Page title, also shown as the top heading.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    if isinstance(plots, dict):
        items = list(plots.items())
    elif callable(getattr(plots, "to_svg", None)):
        items = [(None, plots)]
    else:
        items = [(None, plot) for plot in plots]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;} "
        "figure{margin:0 0 2em 0;}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, plot in items:
        if heading is not None:
            parts.append(f"<h2>{html.escape(str(heading))}</h2>")
        parts.append(f"<figure>\n{to_svg(plot)}\n</figure>")
    parts += ["</body>", "</html>", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
