"""Charts of archives (poll results, participation over time) drawn with matplotlib.

Pure functions of plain data: a spec in, SVG and PNG bytes out. They are CPU-bound and run in
the archive's worker process, never on the event loop. Text is kept as text in the SVG
(DejaVu Sans, then any sans-serif), so charts stay small, searchable and readable.
"""

from __future__ import annotations

import io
import textwrap

# Bump when a chart changes for the same spec: archives cache drawn charts under it.
VERSION = "3"
INK = "#1f2933"
BAR = "#2f5f8a"
PAPER = "#b5651d"  # paper votes, stacked after the phones' (hatched too: not told by colour alone)
GRID = "#d5dbe1"
WRAP = 34
MAX_LABEL_LINES = 3


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 11,
        "svg.fonttype": "none", "svg.hashsalt": "palabre", "axes.edgecolor": GRID,
        "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
        # One dpi for layout and PNG: the PNG reuses the layout's renderer and its text metrics.
        "figure.dpi": 120, "savefig.dpi": 120,
    })
    return plt


def wrap(label: str, width: int = WRAP, lines: int = MAX_LABEL_LINES) -> str:
    """A long label on at most `lines` lines of `width` characters."""
    return "\n".join(textwrap.wrap(label, width, max_lines=lines, placeholder="…")) or label


def _save(fig) -> dict[str, bytes]:
    out = {}
    for fmt in ("svg", "png"):
        buffer = io.BytesIO()
        # The layout is computed once (tight_layout); bbox_inches="tight" would draw it twice more.
        fig.savefig(buffer, format=fmt, metadata=_metadata(fmt))
        out[fmt] = buffer.getvalue()
    return out


def _metadata(fmt: str) -> dict:
    # No creation date: the same data gives the same bytes (archives compare and cache well).
    return {"Date": None} if fmt == "svg" else {"Software": "Palabre (matplotlib)"}


def bars(spec: dict) -> dict[str, bytes]:
    """A labelled bar chart: horizontal for options, vertical for a rating scale."""
    plt = _pyplot()
    labels = [wrap(str(label)) for label in spec["labels"]]
    values = [v or 0 for v in spec["values"]]
    total = spec.get("total") or 0
    vertical = spec.get("vertical", False)
    lines = sum(label.count("\n") + 1 for label in labels)
    height = max(2.4, 0.9 + 0.36 * max(lines, len(labels)) + 0.25 * len(labels))
    fig, ax = plt.subplots(figsize=(8, 3.6 if vertical else height))
    positions = range(len(labels))
    top = max(values + [1])
    texts = [(f"{v} ({round(100 * v / total)} %)" if spec.get("percent") and total else str(v))
             for v in values]
    _series(ax, list(positions), values, spec, vertical)
    if vertical:
        ax.set_xticks(list(positions), labels)
        ax.set_ylim(0, top * 1.18)
        ax.set_ylabel(spec.get("unit", ""))
        for x, v, text in zip(positions, values, texts, strict=True):
            ax.text(x, v + top * 0.02, text, ha="center", va="bottom", fontsize=10)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
    else:
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.25)
        ax.set_xlabel(spec.get("unit", ""))
        for y, v, text in zip(positions, values, texts, strict=True):
            ax.text(v + top * 0.01, y, text, va="center", fontsize=10)
        ax.grid(axis="x", color=GRID, linewidth=0.8)
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if vertical else ax.xaxis).set_major_locator(MaxNLocator(integer=True))
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # A figure title from the left edge: long label columns cannot push it out of the image.
    fig.suptitle(wrap(spec.get("title", ""), 75, 3), x=0.01, ha="left", fontsize=12, fontweight="bold")
    if spec.get("note"):
        fig.text(0.99, 0.01, spec["note"], ha="right", va="bottom", fontsize=9, color="#52606d")
    fig.tight_layout()
    try:
        return _save(fig)
    finally:
        plt.close(fig)


def _series(ax, positions: list, values: list, spec: dict, vertical: bool) -> None:
    """One bar per value; or, when paper counts were entered (`stack`: phone values, paper
    values), the phones' bar then the paper's stacked on it, each with its id in the SVG
    (phone-N, paper-N), and a legend naming both (`legend`)."""
    draw, size = (ax.bar, {"width": 0.6}) if vertical else (ax.barh, {"height": 0.6})
    stack = spec.get("stack")
    if not stack:
        draw(positions, values, color=BAR, **size)
        return
    phone, paper = ([v or 0 for v in part] for part in stack)
    names = spec.get("legend") or ["", ""]
    first = draw(positions, phone, color=BAR, label=names[0], **size)
    second = draw(positions, paper, color=PAPER, hatch="///", edgecolor="white", linewidth=0,
                  label=names[1], **{("bottom" if vertical else "left"): phone}, **size)
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        a.set_gid(f"phone-{n}")
        b.set_gid(f"paper-{n}")
    ax.legend(loc="best", fontsize=9, frameon=True, edgecolor=GRID)


def participation(spec: dict) -> dict[str, bytes]:
    """Participants joined (cumulative line) and answers per time bucket (bars)."""
    from datetime import datetime, timedelta

    plt = _pyplot()
    from matplotlib import dates as mdates

    fig, ax = plt.subplots(figsize=(8, 3.2))
    times = [datetime.fromisoformat(t) for t in spec["buckets"]]
    width = spec["minutes"] / (24 * 60) * 0.8
    ax.bar(times, spec["answers"], width=width, color="#9fb7cc", label=spec["answers_label"],
           align="edge")
    ax.set_ylabel(spec["answers_label"])
    ax2 = ax.twinx()
    ax2.step(times, spec["joined"], where="post", color=BAR, linewidth=2, label=spec["joined_label"])
    ax2.set_ylabel(spec["joined_label"])
    ax2.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    end = times[-1] + timedelta(minutes=spec["minutes"])
    ax.set_xticks(time_ticks(times[0], end))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlim(times[0], end)
    ax.set_xlabel(spec["time_label"])
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False, fontsize=9)
    ax.set_title(spec["title"], loc="left", fontsize=12, fontweight="bold")
    fig.tight_layout()
    try:
        return _save(fig)
    finally:
        plt.close(fig)


def pulse(spec: dict) -> dict[str, bytes]:
    """The room's pulse over time: the pace average (a line from too slow to too fast, above)
    and hands raised and reactions per time bucket (bars, below)."""
    from datetime import datetime, timedelta

    plt = _pyplot()
    from matplotlib import dates as mdates

    fig, (top, low) = plt.subplots(2, 1, figsize=(8, 4.4), sharex=True, height_ratios=(3, 2))
    times = [datetime.fromisoformat(t) for t in spec["buckets"]]
    step = timedelta(minutes=spec["minutes"])
    mids = [t + step / 2 for t in times]
    top.axhline(0, color=GRID, linewidth=1)
    top.plot(mids, [float("nan") if v is None else v for v in spec["average"]], color=BAR, linewidth=2,
             marker="o", markersize=4, label=spec["average_label"])
    top.set_ylim(-1.1, 1.1)
    top.set_yticks([-1, 0, 1], [spec["slow_label"], spec["ok_label"], spec["fast_label"]])
    top.legend(loc="upper left", fontsize=9, framealpha=0.85, edgecolor="none")
    top.set_title(spec["title"], loc="left", fontsize=12, fontweight="bold")
    width = spec["minutes"] / (24 * 60) * 0.4
    low.bar(times, spec["reactions"], width=width, color="#9fb7cc", align="edge",
            label=spec["reactions_label"])
    low.bar([t + step * 0.45 for t in times], spec["hands"], width=width, color="#c2703d", align="edge",
            label=spec["hands_label"])
    from matplotlib.ticker import MaxNLocator

    low.yaxis.set_major_locator(MaxNLocator(integer=True))
    low.set_ylim(bottom=0)
    low.legend(loc="upper left", fontsize=9, framealpha=0.85, edgecolor="none")
    end = times[-1] + step
    low.set_xticks(time_ticks(times[0], end))
    low.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    low.set_xlim(times[0], end)
    low.set_xlabel(spec["time_label"])
    for ax in (top, low):
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    try:
        return _save(fig)
    finally:
        plt.close(fig)


TICK_MINUTES = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440)


def time_ticks(start, end, most: int = 8) -> list:
    """Ticks of a time axis labelled HH:MM: whole minutes, at most `most`, never two alike (the
    automatic locator puts several ticks in one minute on a short session, all labelled alike)."""
    from datetime import timedelta

    span = (end - start).total_seconds() / 60
    step = next((m for m in TICK_MINUTES if span / m <= most - 1), TICK_MINUTES[-1])
    first = start.replace(second=0, microsecond=0)
    minute = first.hour * 60 + first.minute
    first -= timedelta(minutes=minute % step)
    if first < start:
        first += timedelta(minutes=step)
    ticks = []
    while first <= end:
        ticks.append(first)
        first += timedelta(minutes=step)
    return ticks or [start]


def wordcloud(spec: dict) -> dict[str, bytes]:
    """A word cloud of {word: weight} (the word-cloud feature's own renderer)."""
    import io

    from live.render.wordcloud import StableWordCloud

    # One layout for both formats: the same bytes as render_svg + render_png, half the work.
    cloud = StableWordCloud().generate_from_frequencies(spec["frequencies"] or {"—": 1})
    buffer = io.BytesIO()
    cloud.to_image().save(buffer, format="PNG")
    return {"svg": cloud.to_svg().encode("utf-8"), "png": buffer.getvalue()}


RENDERERS = {"bars": bars, "participation": participation, "wordcloud": wordcloud, "pulse": pulse}


def render(spec: dict) -> dict[str, bytes]:
    """Draw one chart spec ({"chart": "bars"|"participation", ...})."""
    return RENDERERS[spec["chart"]](spec)
