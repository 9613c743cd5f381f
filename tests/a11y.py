"""Accessibility checks in real Chromium: axe-core injected into the pages, and a realistic event.

axe-core (`tests/vendor/axe.min.js`, MPL-2.0, see tests/vendor/README.md) is a test asset: it is
never served. The app sends a strict Content-Security-Policy (`script-src 'self'`, nothing
inline), which is left on: the source goes into the page through `page.evaluate`, that is the
DevTools protocol's `Runtime.evaluate`, which the page's CSP does not govern. `axe_report`
checks that axe really ran (its version, and rules that passed) before its violations count.

`seed` builds what a real event holds: for each language, one session per kind of activity on
screen (each poll type, word cloud, idea wall, Q&A), with the full agenda behind it, a dozen
participants who voted, wrote words, posted ideas (pending, published, rejected) and questions
(one being answered, some answered), results revealed; plus a session with the join banner, an
ended session (report, purge page, a finished purge job), a purge and an import still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from realserver import sqlite_url

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}
KINDS = ("single", "multiple", "scale", "ranking", "wordcloud", "ideas", "questions")

CONTENT = {
    "fr": {
        "event": ("Human Tech Days 2022 — Chartres", "Cité de l'innovation, Chartres"),
        "title": "Atelier : comment imaginer un numérique plus sobre ?",
        "single": ("Votre structure a-t-elle déjà mesuré l'impact environnemental de ses services ?",
                   ["Oui", "En cours", "Non", "Je ne sais pas"]),
        "multiple": ("Quels formats vous mobiliseraient ?",
                     ["Ateliers pratiques", "Défis entre structures", "Mesures publiées",
                      "Événements locaux"]),
        "scale": ("Le numérique est-il un levier de sobriété sur notre territoire ?",
                  ["Pas du tout", "Tout à fait"]),
        "ranking": ("Classez les leviers par priorité pour la région",
                    ["Allonger la durée de vie des équipements", "Écoconcevoir les services publics",
                     "Former les agents et les élus", "Mutualiser les infrastructures"]),
        "draft": ("Faut-il une charte régionale du numérique responsable ?", ["Oui", "Non"]),
        "wordcloud": ("En un mot : un numérique sobre, c'est… ?",
                      ["sobre", "durable", "local", "réparer", "partage", "sobriété", "mutualiser",
                       "frugalité", "réemploi", "sobre", "local", "durable"]),
        "ideas": ("Comment imaginer un numérique plus sobre ?", ["Constats", "Idées", "Actions"],
                  ["Réparer avant de remplacer", "Mutualiser les salles serveurs", "Former les agents",
                   "Allonger la durée de vie des ordinateurs", "Un atelier de réparation par quartier",
                   "Publier l'empreinte de chaque service", "Des achats publics plus exigeants"]),
        "questions": ("Vos questions aux intervenants",
                      ["Comment mesurer l'empreinte d'un service ?", "Qui paie la réparation ?",
                       "Quelle place pour les logiciels libres ?", "Combien coûte un audit ?",
                       "Que faire des équipements en fin de vie ?"]),
    },
    "en": {
        "event": ("Human Tech Days 2022 — Chartres", "Innovation centre, Chartres"),
        "title": "Workshop: how could digital services use less?",
        "single": ("Has your organisation measured the environmental impact of its services?",
                   ["Yes", "Under way", "No", "I don't know"]),
        "multiple": ("Which formats would get you involved?",
                     ["Hands-on workshops", "Challenges between teams", "Published measurements",
                      "Local events"]),
        "scale": ("Is digital technology a lever for frugality in our region?", ["Not at all", "Absolutely"]),
        "ranking": ("Rank the levers by priority for the region",
                    ["Make devices last longer", "Eco-design public services", "Train staff and councillors",
                     "Share infrastructure"]),
        "draft": ("Should the region adopt a responsible digital charter?", ["Yes", "No"]),
        "wordcloud": ("In one word: frugal digital is…?",
                      ["frugal", "durable", "local", "repair", "sharing", "sober", "pooling", "reuse",
                       "simple", "frugal", "local", "durable"]),
        "ideas": ("How could digital services use less?", ["Findings", "Ideas", "Actions"],
                  ["Repair before replacing", "Share the server rooms", "Train the staff",
                   "Keep computers longer", "A repair workshop in every district",
                   "Publish the footprint of every service", "Stricter public purchasing"]),
        "questions": ("Your questions to the panel",
                      ["How do you measure a service's footprint?", "Who pays for repairs?",
                       "What room for free software?", "How much does an audit cost?",
                       "What happens to devices at the end of their life?"]),
    },
}
PEOPLE = 12


@dataclass
class Seeded:
    """What `seed` made, per language: tokens and ids of each session."""

    sessions: dict = field(default_factory=dict)  # (lang, kind|"banner"|"ended") -> info dict
    jobs: dict = field(default_factory=dict)  # "purge"|"purge-running"|"import-running" -> job id
    events: dict = field(default_factory=dict)  # lang -> event id


def _choice(kind: str, ids: list[int], n: int) -> list[int]:
    if kind == "single":
        return [ids[n % 3]]
    if kind == "multiple":
        return [ids[n % 4], ids[(n + 1) % 4]]
    if kind == "scale":
        return [1 + n % 5]
    return ids[n % 2:] + ids[:n % 2]


def _polls(db, live_session, people, text) -> dict:
    from live.polls import service as polls

    made = {}
    for kind, settings in (("single", {}), ("multiple", {"max_choices": 2}),
                           ("scale", {"scale_max": 5}), ("ranking", {})):
        prompt, options = text[kind]
        if kind == "scale":
            poll = polls.add_poll(db, live_session, "scale", prompt, None,
                                  {"scale_max": 5, "label_low": options[0], "label_high": options[1]})
        else:
            poll = polls.add_poll(db, live_session, kind, prompt, options, settings)
        made[kind] = poll
        ids = [o.id for o in polls.options_of(db, poll)]
        from live.sessions import service as sessions

        sessions.apply_command(db, live_session, "open", poll.id)
        for n, person in enumerate(people):
            polls.vote(db, live_session, poll, person, _choice(kind, ids, n))
        if kind == "single":  # (the scale and the ranking keep their results hidden)
            sessions.apply_command(db, live_session, "reveal", poll.id)
            polls.add_paper(db, live_session, poll, ids[0], 7, "facilitator")  # a show of hands
        if kind == "multiple":
            sessions.apply_command(db, live_session, "close", poll.id)
            sessions.apply_command(db, live_session, "reveal", poll.id)
    prompt, options = text["draft"]
    made["draft"] = polls.add_poll(db, live_session, "single", prompt, options)
    return made


def _ref(item) -> list[dict]:
    return [{"id": item.id, "version": item.version}]


def _boards(db, live_session, people, text) -> dict:
    from live.boards import service as boards
    from live.sessions import service as sessions

    prompt, columns, ideas = text["ideas"]
    wall = boards.add_board(db, live_session, "ideas", prompt,
                            {"columns": columns, "premoderation": True, "budget": 3, "signed": True})
    qa = boards.add_board(db, live_session, "questions", text["questions"][0], {})
    for activity in (wall, qa):
        sessions.apply_command(db, live_session, "open", activity.id)
        if not activity.revealed:
            sessions.apply_command(db, live_session, "reveal", activity.id)
    posted = []
    for n, idea in enumerate(ideas):
        item = boards.post(db, live_session, wall, people[n], idea, n % len(columns),
                           "Léa" if n == 0 else None)
        db.flush()
        posted.append(item)
    for item in posted[:5]:
        boards.moderate(db, live_session, wall, "approve", _ref(item), "moderator")
    boards.moderate(db, live_session, wall, "reject", _ref(posted[5]), "moderator")  # posted[6]: pending
    for n, person in enumerate(people[:8]):
        boards.vote(db, live_session, wall, person, posted[n % 4].id)
    questions = []
    for n, question in enumerate(text["questions"][1]):
        questions.append(boards.post(db, live_session, qa, people[n], question))
        db.flush()
    for n, person in enumerate(people[5:]):
        boards.vote(db, live_session, qa, person, questions[n % 3].id)
    for item in questions[3:]:
        boards.moderate(db, live_session, qa, "answer", _ref(item), "moderator")
    boards.set_display(db, live_session, qa, "moderator", {"current": questions[0].id})
    return {"ideas": wall, "questions": qa}


def _cloud(db, live_session, people, text):
    from live.sessions import service as sessions
    from live.wordclouds import service as clouds

    prompt, words = text["wordcloud"]
    cloud = clouds.add_wordcloud(db, live_session, prompt)
    sessions.apply_command(db, live_session, "open", cloud.id)
    for person, word in zip(people, words, strict=False):
        clouds.add_entry(db, live_session, cloud, person, word)
    sessions.apply_command(db, live_session, "reveal", cloud.id)
    return cloud


def _session(db, event, lang: str, on_screen: str | None, n: int) -> dict:
    """A workshop with the whole agenda, `on_screen` shown (None: the join banner)."""
    from live.sessions import service as sessions

    text = CONTENT[lang]
    live_session = sessions.create_session(db, event, "workshop", f"{text['title']} ({n})", locale=lang)
    people = [sessions.join(db, live_session, f"a11y-{lang}-{n}-{k}") for k in range(PEOPLE)]
    activities = {**_polls(db, live_session, people, text),
                  "wordcloud": _cloud(db, live_session, people, text),
                  **_boards(db, live_session, people, text)}
    if on_screen is not None:
        sessions.apply_command(db, live_session, "show", activities[on_screen].id)
    return {"id": live_session.id, "code": live_session.join_code,
            "facilitator": live_session.facilitator_token, "moderator": live_session.moderator_token,
            "screen": live_session.screen_token,
            "activities": {kind: a.id for kind, a in activities.items()}}


def seed(database: Path) -> Seeded:
    """Migrate `database` and fill it (see the module's docstring)."""
    from live.archive import jobs
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    url = sqlite_url(database)
    upgrade(url)
    store = Store(url)
    made = Seeded()
    try:
        for lang in ("fr", "en"):
            with store.write() as db:
                event = sessions.create_event(db, *CONTENT[lang]["event"], "2022-04-05")
                db.flush()
                made.events[lang] = event.id
                for n, kind in enumerate((*KINDS, "banner", "ended")):
                    made.sessions[lang, kind] = _session(db, event, lang, kind if kind in KINDS else None, n)
                ended = sessions.get_session(db, made.sessions[lang, "ended"]["id"])
                sessions.apply_command(db, ended, "end", None)
        with store.write() as db:
            ended = [made.sessions[lang, "ended"]["id"] for lang in ("fr", "en")]
            made.jobs["purge"] = jobs.create(db, "purge", ended[:1], True)
            made.jobs["purge-running"] = jobs.create(db, "purge", ended[1:], True)  # never started
            made.jobs["import-running"] = jobs.create(db, "import", [], False)
        jobs.execute(store, made.jobs["purge"])
    finally:
        store.dispose()
    return made


def page_paths(made: Seeded, lang: str) -> dict[str, str]:
    """Every page to check, by name: organiser, console and its forms, moderator, screen and
    phone for each kind, archives, error pages."""
    s = made.sessions
    first = s[lang, "single"]
    acts = first["activities"]
    tok = first["facilitator"]
    paths = {
        "home": "/", "join-unknown-code": "/join?code=ZZZZZZ", "not-found": "/no-such-page",
        "bad-link": "/f/not-a-valid-link", "phone-ended": f"/j/{s[lang, 'ended']['code']}",
        "admin": "/admin/", "admin-login": "/admin/login", "admin-session": f"/admin/sessions/{first['id']}",
        "archives": "/admin/archive", "report": f"/admin/archive/sessions/{s[lang, 'ended']['id']}",
        "purge": f"/admin/archive/sessions/{s[lang, 'ended']['id']}/purge",
        "purge-job": f"/admin/archive/purges/{made.jobs['purge']}",
        "purge-job-running": f"/admin/archive/purges/{made.jobs['purge-running']}",
        "import-job-running": f"/admin/archive/imports/{made.jobs['import-running']}",
        "console": f"/f/{tok}", "paper": f"/f/{tok}/paper",
        "console-banner": f"/f/{s[lang, 'banner']['facilitator']}",
        "poll-edit": f"/f/{tok}/polls/{acts['draft']}",
        "cloud-edit": f"/f/{tok}/wordclouds/{acts['wordcloud']}",
        "board-settings": f"/f/{tok}/boards/{acts['ideas']}/settings",
        "moderator": f"/m/{first['moderator']}",
        "screen-banner": f"/screen/{s[lang, 'banner']['screen']}",
        "phone-waiting": f"/j/{s[lang, 'banner']['code']}",
        "screen-ended": f"/screen/{s[lang, 'ended']['screen']}",
    }
    for kind in KINDS:
        paths[f"screen-{kind}"] = f"/screen/{s[lang, kind]['screen']}"
        paths[f"phone-{kind}"] = f"/j/{s[lang, kind]['code']}"
    return {name: path + ("&" if "?" in path else "?") + f"lang={lang}" for name, path in paths.items()}


AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ["violations"]});
  const nodes = v => v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary);
  return {version: axe.version, passes: r.passes.length,
          violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: nodes(v)}))};
}"""


def axe_report(page) -> dict:
    """Run axe-core in `page` (injected through the DevTools protocol, the CSP left on)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    report = page.evaluate(AXE_RUN)
    assert report["version"].startswith("4."), report
    assert report["passes"] > 5, f"axe ran no rule on {page.url}: {report}"
    return report


def describe(violations: list[dict]) -> str:
    """A readable list of axe violations."""
    return "\n".join(f"  [{v['impact']}] {v['id']}: {v['help']}\n"
                     + "\n".join(f"      {n}" for n in v["nodes"][:4]) for v in violations)
