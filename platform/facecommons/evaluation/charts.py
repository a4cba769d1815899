"""Server-rendered charts (matplotlib's object API with the Agg canvas; no pyplot, so it is
safe in threaded servers). Each chart is an SVG string; the same chart renders to PNG for
download. Groups that are insufficient or under the small-count limit are not drawn."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from facecommons.evaluation import selectors  # noqa: E402
from facecommons.evaluation.models import EvaluationRun, MetricResult  # noqa: E402

DETECTION_CATEGORIES = ("gender", "ethnicity", "skin_tone", "age_range", "accessories", "lighting")
VERIFICATION_CATEGORIES = ("gender", "ethnicity", "skin_tone", "age_range")
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#393b79", "#637939"]


class ChartNotFound(LookupError):
    pass


def _out(fig: Figure, fmt: str, salt: str) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=110)
    return buf.getvalue()


def _group_rows(run: EvaluationRun, model_id: str, metric: str, category: str) -> list[MetricResult]:
    qs = MetricResult.objects.filter(run=run, model_id=model_id, metric=metric, category=category).exclude(value="*")
    return [m for m in qs.order_by("value") if not m.insufficient and m.estimate is not None
            and not selectors.is_hidden(m.n, m.value)]


def _bars(ax: Any, rows: list[MetricResult], *, colour: str, xlabel: str, zero_line: bool = False) -> None:
    labels = [f"{m.value} (n={m.n})" for m in rows]
    est = [float(m.estimate or 0.0) for m in rows]  # callers pass rows with an estimate
    lo = [max(0.0, e - (m.ci_low if m.ci_low is not None else e)) for e, m in zip(est, rows, strict=True)]
    hi = [max(0.0, (m.ci_high if m.ci_high is not None else e) - e) for e, m in zip(est, rows, strict=True)]
    y = range(len(rows))
    ax.barh(list(y), est, xerr=[lo, hi], color=colour, alpha=0.8, capsize=3, ecolor="#333")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if zero_line:
        ax.axvline(0, color="#333", lw=0.8)
    ax.grid(axis="x", alpha=0.3)


def available_charts(run: EvaluationRun) -> list[dict[str, str]]:
    """[{model, chart, title}] for the charts that have something to draw."""
    out = []
    for spec in run.model_specs:
        mid = spec["id"]
        if spec["task"] == "detection":
            for cat in DETECTION_CATEGORIES:
                if _group_rows(run, mid, "detection_rate", cat):
                    out.append({"model": mid, "chart": f"rates-{cat}", "title": f"Detection rate by {cat}"})
            for cat in DETECTION_CATEGORIES:
                if _group_rows(run, mid, "enhancement_effect", cat):
                    out.append({"model": mid, "chart": f"enhancement-{cat}",
                                "title": f"Enhancement effect by {cat}"})
        else:
            for cat in VERIFICATION_CATEGORIES:
                if _group_rows(run, mid, "fmr@usual", cat) or _group_rows(run, mid, "fnmr@usual", cat):
                    out.append({"model": mid, "chart": f"errors-{cat}", "title": f"FMR and FNMR by {cat}"})
            for cat in ("all", *VERIFICATION_CATEGORIES):
                if selectors.run_curves(run, mid, cat):
                    out.append({"model": mid, "chart": f"det-{cat}", "title": f"DET curves by {cat}"})
        out.append({"model": mid, "chart": "trend", "title": "Trend across runs"})
    return out


def render(run: EvaluationRun, model_id: str, chart: str, fmt: str = "svg") -> bytes:
    specs = {s["id"]: s for s in run.model_specs}
    if model_id not in specs or fmt not in ("svg", "png"):
        raise ChartNotFound(chart)
    kind, _, cat = chart.partition("-")
    salt = f"{run.pk}-{model_id}-{chart}"
    fig = Figure(figsize=(7.5, 0.5 + 0.42 * 8))
    if kind == "rates":
        rows = _group_rows(run, model_id, "detection_rate", cat)
        if not rows:
            raise ChartNotFound(chart)
        fig.set_size_inches(7.5, 1.2 + 0.38 * len(rows))
        ax = fig.add_subplot()
        _bars(ax, rows, colour=COLOURS[0], xlabel="detection rate (IoU ≥ 0.5), 95% Wilson interval")
        ax.set_xlim(0, 1.02)
        ax.set_title(f"{model_id}: detection rate by {cat}")
    elif kind == "enhancement":
        rows = _group_rows(run, model_id, "enhancement_effect", cat)
        if not rows:
            raise ChartNotFound(chart)
        fig.set_size_inches(7.5, 1.2 + 0.38 * len(rows))
        ax = fig.add_subplot()
        _bars(ax, rows, colour=COLOURS[2], xlabel="detection rate enhanced − original (dark photos), 95% bootstrap",
              zero_line=True)
        ax.set_title(f"{model_id}: enhancement effect by {cat}")
    elif kind == "errors":
        panels = [("fmr@target", "FMR at the global threshold"), ("fnmr@target", "FNMR at the global threshold"),
                  ("fmr@usual", "FMR at the model's threshold"), ("fnmr@usual", "FNMR at the model's threshold")]
        data = [(m, t, _group_rows(run, model_id, m, cat)) for m, t in panels]
        data = [d for d in data if d[2]]
        if not data:
            raise ChartNotFound(chart)
        n = max(len(d[2]) for d in data)
        fig.set_size_inches(11, 1.0 + (0.38 * n + 0.9) * ((len(data) + 1) // 2))
        for i, (metric, title, rows) in enumerate(data):
            ax = fig.add_subplot((len(data) + 1) // 2, 2, i + 1)
            _bars(ax, rows, colour=COLOURS[1] if metric.startswith("fmr") else COLOURS[3], xlabel=metric)
            ax.set_title(title, fontsize=9)
        fig.suptitle(f"{model_id}: error rates by {cat} (95% subject bootstrap)")
    elif kind == "det":
        curves = selectors.run_curves(run, model_id, cat)
        if not curves:
            raise ChartNotFound(chart)
        fig.set_size_inches(6.5, 5.5)
        ax = fig.add_subplot()
        for i, c in enumerate(curves):
            xy = [(p[1], p[2]) for p in c.points if p[1] > 0 and p[2] > 0]  # log axes: zeros cannot show
            if xy:
                ax.plot([p[0] for p in xy], [p[1] for p in xy], label=f"{c.value}", color=COLOURS[i % len(COLOURS)])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("false match rate")
        ax.set_ylabel("false non-match rate")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        ax.set_title(f"{model_id}: DET curves by {cat}")
    elif kind == "trend":
        spec = specs[model_id]
        metrics = (["detection_rate"] if spec["task"] == "detection" else ["fmr@usual", "fnmr@usual"])
        fig.set_size_inches(7.5, 3.6)
        ax = fig.add_subplot()
        drawn = False
        for i, metric in enumerate(metrics):
            pts = [p for p in selectors.trend(run.scope_key, model_id, metric) if p["estimate"] is not None]
            if not pts:
                continue
            drawn = True
            xs = [p["finished_at"] for p in pts]
            ax.plot(xs, [p["estimate"] for p in pts], marker="o", color=COLOURS[i], label=metric)
            ax.fill_between(xs, [p["ci_low"] if p["ci_low"] is not None else p["estimate"] for p in pts],
                            [p["ci_high"] if p["ci_high"] is not None else p["estimate"] for p in pts],
                            color=COLOURS[i], alpha=0.15)
        if spec["task"] == "detection":
            for j, cat in enumerate(("gender", "ethnicity", "skin_tone")):
                pts = [p for p in selectors.trend(run.scope_key, model_id, "detection_gap", cat, "*")
                       if p["estimate"] is not None]
                if pts:
                    drawn = True
                    ax.plot([p["finished_at"] for p in pts], [p["estimate"] for p in pts], marker=".", ls="--",
                            color=COLOURS[3 + j], label=f"gap by {cat}")
        if not drawn:
            ax.text(0.5, 0.5, "no finished run with enough data yet", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_title(f"{model_id}: {run.scope_key}, across runs")
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=8)
        fig.autofmt_xdate()
    else:
        raise ChartNotFound(chart)
    return _out(fig, fmt, salt)


_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>\s*\*\s*\{([^}]*)\}\s*</style>", re.S)


def _attributes(declarations: str) -> str:
    """``a: b; c: d`` as ``a="b" c="d"`` (matplotlib writes only SVG presentation properties)."""
    out = []
    for decl in declarations.split(";"):
        name, sep, value = decl.partition(":")
        if sep and re.fullmatch(r"[a-z-]+", name.strip()):
            out.append(f'{name.strip()}="{html.escape(value.strip(), quote=True)}"')
    return " ".join(out)


def svg_for_inline(data: bytes) -> str:
    """The SVG element without its XML prologue and doctype, for embedding in the page.

    The page's Content-Security-Policy refuses inline style, so matplotlib's ``style=""``
    attributes become the equivalent presentation attributes and its one ``<style>`` rule
    (defaults for every element) moves onto the root, from where SVG properties inherit.
    """
    text = data.decode("utf-8")
    start = text.find("<svg")
    text = text[start:] if start >= 0 else text
    defaults = ""
    rule = _STYLE_ELEMENT.search(text)
    if rule:
        defaults = " " + _attributes(rule.group(1))
        text = text[:rule.start()] + text[rule.end():]
    text = _STYLE_ATTR.sub(lambda m: " " + _attributes(m.group(1)), text)
    return text.replace("<svg", "<svg" + defaults, 1) if defaults else text
