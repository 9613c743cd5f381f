"""Private until revealed, said where people look: the phone of a word cloud says that only they
see their words until the reveal (as a private wall's phone does), and the moderator page marks
a private wall and a cloud not yet revealed. French and English, page without JavaScript."""

from __future__ import annotations

from conftest import command
from test_boards_service import add_board
from test_socket_wordclouds import add_cloud

NOTE = {"fr": ('<span class="badge badge-private">Privé</span> Vos mots ne sont visibles que par vous '
               "jusqu’à ce que l’animation les révèle."),
        "en": '<span class="badge badge-private">Private</span> Only you see your words until the '
              "facilitator reveals them."}
BADGE = {"fr": "Privé jusqu’à la révélation", "en": "Private until revealed"}


def _page(app, url, lang):
    browser = app.test_client()
    browser.set_cookie("plang", lang)
    browser.get(url, headers={"Accept-Language": lang})
    return browser.get(url, headers={"Accept-Language": lang}).get_data(as_text=True)


def test_the_phone_of_a_cloud_says_only_you_see_your_words_until_the_reveal(app, store, live):
    cloud = add_cloud(store, live["id"])
    for action in ("show", "open"):
        command(store, live["id"], action, cloud)
    for lang in ("fr", "en"):
        html = _page(app, f"/j/{live['code']}", lang)
        assert NOTE[lang] in html, lang
        assert "word-private" in html.split('id="word-form"')[0]  # under the prompt, before the form
    command(store, live["id"], "reveal", cloud)
    assert "word-private" not in _page(app, f"/j/{live['code']}", "en")


def _section(html, prefix, activity):
    return html.split(f'id="{prefix}-{activity}"')[1].split("</section>")[0]


def test_the_moderator_page_marks_a_private_wall_and_an_unrevealed_cloud(app, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, private=True)
    public = add_board(store, live["id"], columns=["Idées"], premoderation=False)
    cloud = add_cloud(store, live["id"])
    command(store, live["id"], "open", cloud)
    url = f"/m/{live['moderator']}"
    for lang in ("fr", "en"):
        html = _page(app, url, lang)
        badge = f'<span class="badge badge-private">{BADGE[lang]}</span>'
        private_wall = _section(html, "board", wall)
        assert badge in private_wall and 'class="item-meta mod-private">' in private_wall, lang
        assert 'class="item-meta mod-private" hidden>' in _section(html, "board", public)
        assert badge in _section(html, "wc", cloud), lang
    for activity in (wall, cloud):
        command(store, live["id"], "reveal", activity)
    html = _page(app, url, "en")
    assert 'class="item-meta mod-private" hidden>' in _section(html, "board", wall)
    assert "badge-private" not in _section(html, "wc", cloud)
