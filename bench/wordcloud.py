"""Palabre's word-cloud renderer vs a stock WordCloud on the same 200 groups at 1280×720.

    python -m bench wordcloud [--groups 200] [--repeat 5] [--trials 10]

Times the layout and the SVG (font subset cached, then rebuilt) against the stock
`generate_from_frequencies`, then measures stability: the share of words kept in place when one
entry is added (a new word, or one more for an existing group), for both renderers.
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


def stock_positions(frequencies: Mapping[str, float], width: int = 1280,
                    height: int = 720) -> dict[str, tuple]:
    """`{text: (position, size, orientation)}` of each word a seeded stock WordCloud draws."""
    from wordcloud import WordCloud

    from live.render.wordcloud import default_font_path

    cloud = WordCloud(width=width, height=height, font_path=str(default_font_path()), random_state=1)
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
    """Time the renderers and measure their stability; print the figures."""
    from wordcloud import WordCloud

    from live.render import wordcloud as render

    frequencies = wordcloud_input(args.groups)
    font = str(render.default_font_path())

    def stock() -> None:
        WordCloud(width=1280, height=720, font_path=font, random_state=1).generate_from_frequencies(
            frequencies)

    def palabre_layout() -> None:
        render.StableWordCloud(1280, 720).generate_from_frequencies(frequencies)

    def palabre_svg() -> None:
        render.render_svg(frequencies)

    def palabre_svg_cold_font() -> None:
        render._woff.cache_clear()
        render.render_svg(frequencies)

    timings = {}
    for name, function in (("stock generate_from_frequencies", stock), ("palabre layout", palabre_layout),
                           ("palabre SVG (font subset cached)", palabre_svg),
                           ("palabre SVG (font subset rebuilt)", palabre_svg_cold_font)):
        function()  # warm: imports, fonts, caches
        timings[name] = statistics.median(_timed(function) for _ in range(args.repeat))
    svg = render.render_svg(frequencies)
    stock_time = timings["stock generate_from_frequencies"]
    print(f"input: {len(frequencies)} groups, {sum(frequencies.values())} entries, 1280x720, "
          f"median of {args.repeat} runs after one warm-up run each")
    for name, seconds in timings.items():
        print(f"{name:36} {seconds * 1000:8.1f} ms   stock/this = {stock_time / seconds:5.2f}x")
    print(f"SVG size: {len(svg)} bytes; words drawn: {svg.count(b'<text')}")
    if args.trials:
        for label, place in (("palabre", positions), ("stock (seeded)", stock_positions)):
            figures = stability(frequencies, args.trials, place).items()
            print(f"stability, {label} (share of words kept in place): "
                  + "; ".join(f"{name} {value:.1%}" for name, value in figures))


def _timed(function: Callable[[], None]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start
