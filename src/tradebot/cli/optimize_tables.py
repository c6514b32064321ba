"""What ``tradebot optimize`` prints: the study, the best parameters and the best trials."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from tradebot.research.luck import verdict_lines
from tradebot.research.optimize import Trial, count_trials, is_feasible
from tradebot.research.session import OptimizeRun
from tradebot.strategy.space import describe

TOP_ROWS = 10


def print_optimization(run: OptimizeRun, console: Console, report: Path | None) -> None:
    """The summary line, the best parameters (or the Pareto front) and the best trials."""
    counts = count_trials(run.study)
    feasible = [t for t in run.study.get_trials(deepcopy=False) if is_feasible(t)]
    rate = run.ran / run.wall_s if run.wall_s > 0 else 0.0
    console.print(
        f"study [bold]{run.study.study_name}[/bold]: {counts.total} trials ({run.ran} run now, "
        f"{rate:.1f} trials/s): {counts.feasible} feasible, {counts.outside_constraints} "
        f"outside the constraints, {counts.failed} failed; stored in {run.storage}"
    )
    if not run.best:
        console.print(
            "[yellow]no feasible trial[/yellow]: loosen the constraints or widen the space"
        )
    elif len(run.objectives) == 1:
        console.print(_best_table(run, run.best[0]))
    console.print(_trials_table(run, _ranked(run, feasible)))
    if run.verdict is not None:
        console.print("[bold]Is the best trial luck?[/bold]")
        for line in verdict_lines(run.verdict):
            console.print(f"  {line}", markup=False)
    if report is not None:
        console.print(f"report: {report}")


def _best_table(run: OptimizeRun, best: Trial) -> Table:
    table = Table(title=f"Best parameters (trial {best.number})")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    table.add_column("searched", justify="right")
    fixed = run.data.config.strategy.params
    for name, value in best.params.items():
        table.add_row(name, _fmt(value), describe(run.space[name]) if name in run.space else "")
    for name, value in fixed.items():
        table.add_row(name, _fmt(value), "fixed (-p)")
    return table


def _ranked(run: OptimizeRun, feasible: list[Trial]) -> list[Trial]:
    if len(run.objectives) > 1:
        return run.best[:TOP_ROWS]
    sign = 1.0 if run.objectives[0].direction == "maximize" else -1.0
    return sorted(feasible, key=lambda t: (-sign * t.values[0], t.number))[:TOP_ROWS]


def _trials_table(run: OptimizeRun, trials: list[Trial]) -> Table:
    title = "Pareto front" if len(run.objectives) > 1 else f"Best {len(trials)} trials"
    table = Table(title=title)
    table.add_column("trial", justify="right")
    for objective in run.objectives:
        table.add_column(objective.label, justify="right")
    for heading in ("trades", "return %", "max DD %"):
        table.add_column(heading, justify="right")
    names = list(run.space)
    for name in names:
        table.add_column(name, justify="right")
    for t in trials:
        metrics = t.user_attrs.get("metrics", {})
        table.add_row(
            str(t.number),
            *(f"{v:.3f}" for v in t.values),
            _fmt(metrics.get("total_trades")),
            _fmt(metrics.get("total_return_pct")),
            _fmt(metrics.get("max_drawdown_pct")),
            *(_fmt(t.params.get(n)) for n in names),
        )
    return table


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
