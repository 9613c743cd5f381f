"""Palabre's word-cloud renderer vs a stock WordCloud on the same 200 groups, same canvas.

    python -m bench wordcloud [--groups 200] [--repeat 5] [--trials 10]

Times the layout and the SVG (font subset cached, then rebuilt) against the stock
`generate_from_frequencies` on the canvas Palabre draws on (`live.render.WIDTH` x `HEIGHT`),
interleaved in one run so that both see the same machine load; CPU time of this process (less
noisy than wall time on a shared machine) and wall time are both printed. Then it measures
legibility (the smallest gap between two words, in ems of the bigger one) and stability: the
share of words kept in place when one entry is added (a new word, or one more for an existing
group), for both renderers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Mapping

from tests.wordcloud_input import kept_in_place, positions, wordcloud_input


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--trials", type=int, default=10, help="stability trials (0: skip)")


def stock_positions(frequencies: Mapping[str, float]) -> dict[str, tuple]:
    """`{text: (position, size, orientation)}` of each word a seeded stock WordCloud draws."""
    from wordcloud import WordCloud

    from live.render import HEIGHT, WIDTH
    from live.render.wordcloud import default_font_path

    cloud = WordCloud(width=WIDTH, height=HEIGHT, font_path=str(default_font_path()), random_state=1)
    cloud.generate_from_frequencies(frequencies)
    return {word: (position, size, orientation)
            for (word, _), size, position, orientation, _ in cloud.layout_}


def stability(frequencies: Mapping[str, int], trials: int = 20,
              place: Callable[[Mapping[str, float]], dict] = positions) -> dict[str, float]:
    """Mean and worst share of words kept in place when one entry is added, two ways.

    'new word': one new group of count 1 (appended last to the mapping);
    'one more': one more entry for an existing group (so it may grow and move up the order).
    """
    base = place(frequencies)
    rng = random.Random(7)
    results: dict[str, list[float]] = {"new word": [], "one more": []}
    for trial in range(trials):
        results["new word"].append(kept_in_place(base, place({**frequencies, f"nouveau mot {trial}": 1})))
        text = rng.choice(list(frequencies))
        before = {key: spot for key, spot in base.items() if key != text}
        results["one more"].append(kept_in_place(before, place({**frequencies, text: frequencies[text] + 1})))
    return {f"{name} {stat}": fn(values) for name, values in results.items()
            for stat, fn in (("mean", statistics.mean), ("worst", min))}


def run(args: argparse.Namespace) -> None:
    """Time the renderers side by side and measure their stability; print the figures."""
    import os

    from wordcloud import WordCloud

    from live.render import HEIGHT, WIDTH, fonts
    from live.render import wordcloud as render

    frequencies = wordcloud_input(args.groups)
    font = str(render.default_font_path())

    def stock() -> None:
        WordCloud(width=WIDTH, height=HEIGHT, font_path=font, random_state=1).generate_from_frequencies(
            frequencies)

    def palabre_layout() -> None:
        render.StableWordCloud().generate_from_frequencies(frequencies)

    def palabre_layout_cold() -> None:
        for cached in (render._shape, render._fold, fonts.runs):
            cached.cache_clear()
        render.StableWordCloud().generate_from_frequencies(frequencies)

    def palabre_svg() -> None:
        render.render_svg(frequencies)

    def palabre_svg_cold_font() -> None:
        fonts.woff.cache_clear()  # a new subset (HarfBuzz) for every render
        render.render_svg(frequencies)

    cases = (("stock generate_from_frequencies", stock),
             ("palabre layout (a live cloud: words measured before)", palabre_layout),
             ("palabre layout (every word measured anew)", palabre_layout_cold),
             ("palabre SVG (font subset cached)", palabre_svg),
             ("palabre SVG (font subset rebuilt)", palabre_svg_cold_font))
    cpu: dict[str, list[float]] = {name: [] for name, _ in cases}
    wall: dict[str, list[float]] = {name: [] for name, _ in cases}
    for _, function in cases:
        function()  # warm: imports, fonts, caches
    for _ in range(args.repeat):  # interleaved: every case sees the same load
        for name, function in cases:
            seconds, cpu_seconds = _timed(function)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    cloud = render.StableWordCloud().generate_from_frequencies(frequencies)
    svg = cloud.to_svg().encode("utf-8")
    print(f"input: {len(frequencies)} groups, {sum(frequencies.values())} entries, canvas {WIDTH}x{HEIGHT}, "
          f"median of {args.repeat} interleaved runs after one warm-up run each; "
          f"load average {os.getloadavg()[0]:.1f}")
    stock_cpu, stock_wall = (statistics.median(d["stock generate_from_frequencies"]) for d in (cpu, wall))
    for name, _ in cases:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(f"{name:54} cpu {c * 1000:7.1f} ms ({stock_cpu / c:5.2f}x)   wall {w * 1000:7.1f} ms "
              f"({stock_wall / w:5.2f}x)")
    print(f"SVG size: {len(svg)} bytes; words drawn: {len(cloud.placed_)}, not drawn: {len(cloud.missing_)}; "
          f"frame {cloud.frame()[2]}x{cloud.frame()[3]}")
    print(f"smallest gap between two words: {smallest_gap(cloud.placed_):.2f} em of the bigger one")
    if args.trials:
        for label, place in (("palabre", positions), ("stock (seeded)", stock_positions)):
            figures = stability(frequencies, args.trials, place).items()
            print(f"stability, {label} (share of words kept in place): "
                  + "; ".join(f"{name} {value:.1%}" for name, value in figures))


def smallest_gap(placed) -> float:
    """The smallest clear space between two words' boxes, in ems of the bigger of the two."""
    import itertools

    def gap(a, b):
        return max(a.box[0] - b.box[2], b.box[0] - a.box[2], a.box[1] - b.box[3], b.box[1] - a.box[3])

    return min((gap(a, b) / max(a.size, b.size) for a, b in itertools.combinations(placed, 2)), default=0)


def _timed(function: Callable[[], None]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu
