"""Server-side images (word clouds, charts): pure functions, cached, rendered off the event loop."""

# The canvas a word cloud is laid out on: as wide as the projector's free area (about 2.6:1 at
# 1920x1080 and 1280x720 once the prompt and the footer are drawn), and cropped to its words.
WIDTH, HEIGHT = 1920, 740

# The smallest text on a projector, in % of the screen's height: read from the back of the room.
SCREEN_FLOOR = 2.5
# The smallest free area a screen shows a cloud in (fitted, `object-fit: contain`), in % of the
# screen's height: 122 wide on a 4:3 projector, 50 high on a 16:9 one under the longest prompt
# (tests/test_screen_fit.py measures both). A canvas drawn for the screen keeps its smallest
# words at SCREEN_FLOOR once scaled into that area (`live.render.wordcloud.min_font_size`).
SCREEN_BODY = (122, 50)


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
