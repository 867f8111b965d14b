"""``gf.viz``: pictures of learning drawn from the real objects gradfit trains.

The computational graph (:func:`draw_graph`), the chain rule step by step
(:func:`explain_backward`), descent paths of the real optimizers on 2-D test
functions, loss landscapes of a model, training curves and diagnostics, and a
self-contained HTML run report. matplotlib is imported only when a function draws
(with the Agg backend when there is no display), so ``import gradfit.viz`` is light.
Drawing functions return matplotlib ``Figure`` objects that are not registered with
pyplot (nothing to close); save them with ``fig.savefig(path)``.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor(3.0, requires_grad=True)
    >>> "Mul" in gf.viz.draw_graph(x * x).dot
    True
"""

from __future__ import annotations

from gradfit.viz.descent import (
    FUNCTIONS,
    DescentPath,
    TestFunction,
    animate_descent,
    default_optimizers,
    descent_paths,
    plot_descent,
)
from gradfit.viz.explain import explain_backward
from gradfit.viz.graph import Graph, GraphvizNotFoundError, draw_graph
from gradfit.viz.landscape import (
    Projection,
    flatten_params,
    loss_slice_1d,
    loss_surface_2d,
    plot_slice_1d,
    plot_surface_2d,
    project_trajectory,
    random_directions,
    trajectory_landscape,
)
from gradfit.viz.plots import (
    grad_norms,
    layer_snapshot,
    most_confused,
    plot_confusion_matrix,
    plot_curve_fit,
    plot_curves,
    plot_decision_boundary,
    plot_first_layer_weights,
    plot_grad_norms,
    plot_histograms,
    plot_history,
    plot_lr,
    plot_lr_finder,
    plot_most_confused,
    relu_kinks,
    save_figure,
)
from gradfit.viz.report import render_report, write_report
from gradfit.viz.sequence import attention_maps, plot_attention, unrolled_rnn

__all__ = [
    "FUNCTIONS",
    "DescentPath",
    "Graph",
    "GraphvizNotFoundError",
    "Projection",
    "TestFunction",
    "animate_descent",
    "attention_maps",
    "default_optimizers",
    "descent_paths",
    "draw_graph",
    "explain_backward",
    "flatten_params",
    "grad_norms",
    "layer_snapshot",
    "loss_slice_1d",
    "loss_surface_2d",
    "most_confused",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_curve_fit",
    "plot_curves",
    "plot_decision_boundary",
    "plot_descent",
    "plot_first_layer_weights",
    "plot_grad_norms",
    "plot_histograms",
    "plot_history",
    "plot_lr",
    "plot_lr_finder",
    "plot_most_confused",
    "plot_slice_1d",
    "plot_surface_2d",
    "project_trajectory",
    "random_directions",
    "relu_kinks",
    "render_report",
    "save_figure",
    "trajectory_landscape",
    "unrolled_rnn",
    "write_report",
]

# curvature: the top Hessian eigenvalue over training vs gradient descent's limit 2 / lr
from gradfit.viz.curvature import (
    SharpnessSeries,
    plot_sharpness,
    sharpness_during_training,
    sharpness_from_history,
    top_hessian_eigenvalue,
)

__all__ += [
    "SharpnessSeries",
    "plot_sharpness",
    "sharpness_during_training",
    "sharpness_from_history",
    "top_hessian_eigenvalue",
]

# the Newton step beside the gradient step on a 2-D slice of the loss landscape
from gradfit.viz.newton import (  # noqa: E402
    StepComparison,
    newton_landscape,
    newton_step,
    plot_newton_landscape,
)

__all__ += ["StepComparison", "newton_landscape", "newton_step", "plot_newton_landscape"]
