"""Server-side images (word clouds, charts): pure functions, cached, rendered off the event loop."""

# The canvas a word cloud is laid out on: as wide as the projector's free area (about 2.6:1 at
# 1920x1080 and 1280x720 once the prompt and the footer are drawn), and cropped to its words.
WIDTH, HEIGHT = 1920, 740


def missing_words(svg: bytes) -> list[str]:
    """The words a word-cloud SVG could not draw, whole or in part (its `data-missing`):
    characters no installed font has, or no room left. Light: the server process reads it."""
    import json
    from html import unescape

    head = svg[:svg.find(b">") + 1].decode("utf-8", "replace")
    marker = 'data-missing="'
    start = head.find(marker)
    if start < 0:
        return []
    start += len(marker)
    return list(json.loads(unescape(head[start:head.index('"', start)])))
