"""A realistic word-cloud input, and where Palabre's renderer places its words.

The test of the renderer's stability and the word-cloud benchmark (`python -m bench wordcloud`)
measure on the same input.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

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


def positions(frequencies: Mapping[str, float]) -> dict[str, tuple]:
    """`{text: (x, y, size)}` of each word Palabre's renderer draws (on its canvas)."""
    from live.render.wordcloud import StableWordCloud

    cloud = StableWordCloud().generate_from_frequencies(frequencies)
    return {word.text: (word.x, word.y, word.size) for word in cloud.placed_}
