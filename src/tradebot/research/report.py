"""The optimisation report: one self-contained HTML page and a CSV of every trial.

The page holds the best parameters, the optimisation history, the parameters' importance
(PED-ANOVA: deterministic, and needs no scikit-learn), parallel coordinates, and the best
trials; plotly.js is embedded once, so the file opens offline. Text is HTML-escaped.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import optuna
import plotly.graph_objects as go
from optuna.importance import PedAnovaImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState

from tradebot.backtest.report.folders import new_run_folder
from tradebot.research.luck import verdict_lines
from tradebot.research.objectives import Objective
from tradebot.research.optimize import count_trials, is_feasible
from tradebot.research.overfitting import PboResult
from tradebot.research.session import OptimizeRun
from tradebot.strategy.space import describe

TOP_ROWS = 20
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #111827; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.15rem; margin: 28px 0 8px; }
.sub { color: #4b5563; margin: 2px 0; } .note { color: #6b7280; font-size: 0.85rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f4f6; }
"""


@dataclass(frozen=True, slots=True)
class OptimizeReport:
    """Where the report went."""

    folder: Path
    html: Path
    trials_csv: Path


def write_optimize_report(run: OptimizeRun, root: Path) -> OptimizeReport:
    """Write ``report.html`` and ``trials.csv`` into a new folder under ``root``."""
    config = run.data.config
    strategy = Path(config.strategy.name.partition(":")[0]).stem or config.strategy.name
    folder = new_run_folder(
        root, f"optimize-{strategy}", config.trading.symbol, config.trading.timeframe
    )
    html = folder / "report.html"
    html.write_text(render_page(run), encoding="utf-8")
    trials_csv = folder / "trials.csv"
    write_trials_csv(trials_csv, run.study.get_trials(deepcopy=False), run.objectives)
    return OptimizeReport(folder, html, trials_csv)


def render_page(run: OptimizeRun) -> str:
    """The whole page as one string."""
    figures = _figures(run.study, run.objectives)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(run.study.study_name)} optimisation</title>",
        f"<style>{_STYLE}</style></head><body>",
        _header(run),
        "<h2>Best parameters</h2>" if len(run.objectives) == 1 else "<h2>Pareto front</h2>",
        _trial_table(run.best, run.objectives, with_params=True),
    ]
    if run.verdict is not None:
        parts.append("<h2>Is the best trial luck?</h2>")
        parts += [f'<p class="sub">{escape(line)}</p>' for line in verdict_lines(run.verdict)]
        if run.verdict.pbo is not None:
            title = "PBO: out-of-sample rank logits of the in-sample best"
            figures.append((title, _logits(run.verdict.pbo)))
    first = True
    for title, figure in figures:
        parts.append(f"<h2>{escape(title)}</h2>")
        if isinstance(figure, str):
            parts.append(f'<p class="note">{escape(figure)}</p>')
            continue
        parts.append(figure.to_html(full_html=False, include_plotlyjs=first))
        first = False
    top = _top(run.study, run.objectives)
    parts += [
        f"<h2>Best {len(top)} feasible trials</h2>",
        _trial_table(top, run.objectives, with_params=True),
        "</body></html>",
    ]
    return "\n".join(parts)


def _header(run: OptimizeRun) -> str:
    counts = count_trials(run.study)
    config = run.data.config
    space = ", ".join(f"{k} {describe(v)}" for k, v in run.space.items())
    lines = [
        f"<h1>{escape(run.study.study_name)}</h1>",
        f'<p class="sub">{escape(config.strategy.name)} on {escape(config.trading.symbol)} '
        f"{escape(config.trading.timeframe)}, {len(run.data.candles):,} bars "
        f"({escape(run.data.source)})</p>",
        f'<p class="sub">objectives: {escape(", ".join(o.spec for o in run.objectives))};'
        f" searched: {escape(space)}</p>",
        f'<p class="sub">{counts.total} trials: {counts.feasible} feasible, '
        f"{counts.outside_constraints} outside the constraints, {counts.failed} failed; "
        f"stored in {escape(run.storage)}</p>",
    ]
    return "\n".join(lines)


def _figures(
    study: optuna.Study, objectives: Sequence[Objective]
) -> list[tuple[str, go.Figure | str]]:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return [("Charts", "fewer than two complete trials: nothing to chart")]
    vis = optuna.visualization
    out: list[tuple[str, go.Figure | str]] = []
    for k, objective in enumerate(objectives):

        def target(t: FrozenTrial, k: int = k) -> float:
            return float(t.values[k])

        name = objective.label
        out.append(
            (
                f"Optimisation history: {name}",
                vis.plot_optimization_history(study, target=target, target_name=name),
            )
        )
        maximize = objective.direction == "maximize"
        importance = _importance(study, target, name, maximize)
        out.append((f"Parameter importance for {name}", importance))
        out.append(
            (
                f"Parallel coordinates: {name}",
                vis.plot_parallel_coordinate(study, target=target, target_name=name),
            )
        )
    return out


def _importance(
    study: optuna.Study, target: Callable[[FrozenTrial], float], name: str, maximize: bool
) -> go.Figure | str:
    # PED-ANOVA ranks what it takes to get *low* targets: a maximised objective is negated
    # for it (and its reminder of that is silenced), the chart keeps the objective's name.
    def lowered(t: FrozenTrial) -> float:
        return -target(t) if maximize else target(t)

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "PedAnovaImportanceEvaluator", UserWarning)
            return optuna.visualization.plot_param_importances(
                study, evaluator=PedAnovaImportanceEvaluator(), target=lowered, target_name=name
            )
    except (RuntimeError, ValueError) as e:
        return f"importance could not be computed: {e}"


def _logits(pbo: PboResult) -> go.Figure:
    figure = go.Figure(go.Histogram(x=pbo.logits, nbinsx=40))
    figure.add_vline(x=0.0, line_dash="dash")
    figure.update_layout(
        xaxis_title="logit of the out-of-sample rank (≤ 0: at or below the median)",
        yaxis_title="splits",
        height=320,
    )
    return figure


def _top(study: optuna.Study, objectives: Sequence[Objective]) -> list[FrozenTrial]:
    feasible = [t for t in study.get_trials(deepcopy=False) if is_feasible(t)]
    sign = 1.0 if objectives[0].direction == "maximize" else -1.0
    return sorted(feasible, key=lambda t: (-sign * t.values[0], t.number))[:TOP_ROWS]


def _trial_table(
    trials: Sequence[FrozenTrial], objectives: Sequence[Objective], *, with_params: bool
) -> str:
    if not trials:
        return '<p class="note">no feasible trial</p>'
    names = sorted({p for t in trials for p in t.params}) if with_params else []
    head = ["trial", *(o.label for o in objectives), "trades", "return %", "max DD %", *names]
    rows = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    rows.append("</thead><tbody>")
    for t in trials:
        metrics = t.user_attrs.get("metrics", {})
        cells = [
            str(t.number),
            *(f"{v:.4g}" for v in t.values),
            str(metrics.get("total_trades", "")),
            _number(metrics.get("total_return_pct")),
            _number(metrics.get("max_drawdown_pct")),
            *(_number(t.params.get(n)) for n in names),
        ]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def write_trials_csv(
    path: Path, trials: Sequence[FrozenTrial], objectives: Sequence[Objective]
) -> None:
    """One row per trial: number, state, values, feasibility, metrics, params, error."""
    params = sorted({p for t in trials for p in t.params})
    metric_names = ("total_trades", "total_return_pct", "max_drawdown_pct", "sharpe_ratio")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "trial",
                "state",
                *(o.label for o in objectives),
                "feasible",
                *metric_names,
                *params,
                "error",
            ]
        )
        for t in trials:
            metrics = t.user_attrs.get("metrics", {})
            values = list(t.values) if t.values else ["" for _ in objectives]
            writer.writerow(
                [
                    t.number,
                    t.state.name,
                    *values,
                    is_feasible(t),
                    *(metrics.get(m, "") for m in metric_names),
                    *(t.params.get(p, "") for p in params),
                    t.user_attrs.get("error", ""),
                ]
            )
