"""Benchmarks: `python -m live.bench <name> [options]`, e.g. `python -m live.bench wordcloud`.

Each benchmark is a function registered in `BENCHMARKS` (name → function taking the parsed
arguments); add one with `@benchmark("name")`. Benchmarks print figures, they do not assert:
timing thresholds belong here, behaviour belongs in the tests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping

BENCHMARKS: dict[str, Callable[[argparse.Namespace], None]] = {}

# The 51 groups of the 322 realistic entries of a French round table ("En un mot : un numérique
# sobre, c'est… ?"), as live.wordclouds.normalize.group_entries counts them (display: count).
REALISTIC_GROUPS = {
    "sobriété": 41, "réemploi": 18, "low-tech": 16, "eco conception": 14, "local": 11,
    "Partage": 10, "Inclusion": 10, "Mutualisation": 9, "frugale": 8, "réparabilité": 8,
    "reconditionné": 8, "Durabilité": 8, "énergie": 8, "sensibiliser": 7, "accessibilité": 7,
    "durable": 7, "données": 7, "humains": 6, "utilité": 6, "moins": 6, "responsable": 5,
    "collectif": 5, "territoires": 5, "obsolescence": 5, "Confiance": 4, "réparable": 4,
    "recyclage": 4, "bon-sens": 4, "intelligence artificielle": 4, "formation": 4, "frugalité": 4,
    "vertueuse": 4, "simplicité": 4, "Fracture numérique": 3, "écologie": 3, "cloud": 3,
    "Sobriety": 3, "utile": 3, "mobilisation": 3, "repair": 2, "former": 2, "IA": 2,
    "obsolescence programmée": 2, "open source": 2, "Less is more": 2, "libre": 2, "humanité": 2,
    "accessible": 1, "simple": 1, "écolo": 1, "numérique responsable": 1,
}
# More answers heard at such events, to grow the realistic groups into a long tail.
_MORE_WORDS = (
    "solidarité", "transparence", "éthique", "communs", "souveraineté", "logiciel libre",
    "tiers-lieux", "médiation", "autonomie", "coopération", "éducation", "citoyenneté",
    "écoute", "lenteur", "essentiel", "bienveillance", "proximité", "résilience", "entraide",
    "seconde vie", "réparation", "matériel", "batteries", "métaux rares", "data centers",
    "streaming", "vidéo", "mails", "stockage", "nettoyage", "déconnexion", "attention",
    "accessibilité web", "design", "légèreté", "performance", "hébergement", "serveurs",
    "fibre", "5G", "smartphones", "ordinateurs", "imprimantes", "achats", "marchés publics",
    "collectivités", "associations", "écoles", "jeunes", "aînés", "inclusion numérique",
    "illectronisme", "aidants", "France services", "démarches", "open data", "cartographie",
    "mesure", "indicateurs", "empreinte", "carbone", "eau", "climat", "biodiversité",
    "planète", "limites", "rebond", "usage", "besoins", "utile d'abord", "simplifier",
    "moins mais mieux", "fabriquer local", "circuit court", "économie circulaire", "Repair Café",
    "fablab", "low-code", "Linux", "Wikipédia", "OpenStreetMap", "community", "commons",
    "digital sobriety", "right to repair", "less data", "green IT", "care", "pédagogie",
    "gouvernance", "confiance numérique", "vie privée", "RGPD", "cybersécurité", "maintenance",
    "durée de vie", "garantie", "pièces détachées", "indice de réparabilité", "sobriété énergétique",
)
_QUALIFIERS = ("responsable", "partagé", "ouvert", "solidaire", "local", "durable", "frugal", "pour tous")


def benchmark(name: str) -> Callable[[Callable[[argparse.Namespace], None]], Callable]:
    """Register a benchmark function under `name`."""
    def register(function: Callable[[argparse.Namespace], None]) -> Callable:
        BENCHMARKS[name] = function
        return function
    return register


def wordcloud_input(groups: int = 200, seed: int = 2024) -> dict[str, int]:
    """A realistic `{display text: count}` of `groups` groups: the real ones plus a long tail."""
    rng = random.Random(seed)
    frequencies = dict(REALISTIC_GROUPS)
    candidates = list(_MORE_WORDS) + [f"{word} {qualifier}" for word in ("numérique", "réemploi",
                                      "données", "matériel", "design", "logiciel", "service")
                                      for qualifier in _QUALIFIERS]
    rng.shuffle(candidates)
    # Past ~215 groups, more two-word answers ("solidarité locale"...), as a long session gives.
    more = [f"{word} {qualifier}" for word in _MORE_WORDS[:40] for qualifier in _QUALIFIERS]
    rng.shuffle(more)
    for text in candidates + more:
        if len(frequencies) >= groups:
            break
        frequencies.setdefault(text, min(3, int(rng.paretovariate(1.6))))
    return dict(list(frequencies.items())[:groups])


def kept_in_place(before: Mapping[str, tuple], after: Mapping[str, tuple]) -> float:
    """Share of the words of `before` drawn at the same place and size in `after` (0 to 1)."""
    if not before:
        return 1.0
    return sum(after.get(text) == spot for text, spot in before.items()) / len(before)


def positions(frequencies: Mapping[str, float], width: int = 1280, height: int = 720) -> dict[str, tuple]:
    """`{text: (x, y, size)}` of each word Palabre's renderer draws."""
    from live.render.wordcloud import StableWordCloud

    cloud = StableWordCloud(width, height).generate_from_frequencies(frequencies)
    return {word.text: (word.x, word.y, word.size) for word in cloud.placed_}


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


@benchmark("wordcloud")
def bench_wordcloud(args: argparse.Namespace) -> None:
    """Palabre's renderer vs a stock WordCloud on the same 200 groups at 1280×720."""
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


@benchmark("burst")
def bench_burst(args: argparse.Namespace) -> None:
    """N participants vote at once through the real server (live.bench_burst)."""
    from live import bench_burst

    print(bench_burst.describe(bench_burst.run(args.participants, args.mode)))


@benchmark("archive")
def bench_archive(args: argparse.Namespace) -> None:
    """Export of a big session through the real server (live.bench_archive)."""
    from live import bench_archive as archive

    archive.report(args)


@benchmark("cloudlatency")
def bench_cloudlatency(args: argparse.Namespace) -> None:
    """Phones type words through the real server: delay from each ack to the screen's image."""
    import json

    from live import bench_cloud

    print(json.dumps(bench_cloud.latency(args.participants, args.words, args.spread, args.mode), indent=1))


def _timed(function: Callable[[], None]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m live.bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="name", required=True)
    cloud = commands.add_parser("wordcloud", help=bench_wordcloud.__doc__)
    cloud.add_argument("--groups", type=int, default=200)
    cloud.add_argument("--repeat", type=int, default=5)
    cloud.add_argument("--trials", type=int, default=10, help="stability trials (0: skip)")
    burst = commands.add_parser("burst", help=bench_burst.__doc__)
    burst.add_argument("--participants", type=int, default=500)
    burst.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet")
    archive = commands.add_parser("archive", help=bench_archive.__doc__)
    from live import bench_archive as archive_bench

    archive_bench.add_arguments(archive)
    latency = commands.add_parser("cloudlatency", help=bench_cloudlatency.__doc__)
    latency.add_argument("--participants", type=int, default=200)
    latency.add_argument("--words", type=int, default=1, help="entries per participant")
    latency.add_argument("--spread", type=float, default=10.0, help="seconds over which they type")
    latency.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet")
    args = parser.parse_args(argv)
    BENCHMARKS[args.name](args)


if __name__ == "__main__":
    main(sys.argv[1:])
