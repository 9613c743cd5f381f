"""Command line: `flask --app wsgi ...` to migrate, create events and sessions, print links."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from live.errors import DomainError
from live.i18n import message
from live.netinfo import public_base_url
from live.sessions import service
from live.store import app_store, upgrade


def _links(live_session) -> dict:
    from live.sessions import capabilities

    base = public_base_url(current_app.config)
    paths = {"facilitator": "f", "moderator": "m", "screen": "screen"}
    links = {"join": f"{base}/j/{live_session.join_code}"}
    for role, token in capabilities.current_tokens(live_session).items():
        links[role] = (f"{base}/{paths[role]}/{token}" if token else
                       f"(not shown: flask --app wsgi session rotate-link {live_session.id} {role})")
    return links


def _write(fn):
    try:
        with app_store().write() as db:
            return fn(db)
    except DomainError as exc:
        raise click.ClickException(message(exc.code, **exc.params)) from None


db_group = AppGroup("db", help="Database schema.")
event_group = AppGroup("event", help="Events.")
session_group = AppGroup("session", help="Sessions.")


def register(app: Flask) -> None:
    """Add Palabre's commands to the app's CLI."""
    for command in (db_group, event_group, session_group, demo):
        app.cli.add_command(command)


@db_group.command("upgrade")
def db_upgrade():
    """Create or migrate the database to the newest schema."""
    upgrade(app_store().url)
    click.echo("database is up to date")


@db_group.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="File to write (default: instance/backups/palabre-<UTC time>.db)")
def db_backup(output):
    """Copy the database while the server runs (SQLite backup API, or pg_dump)."""
    from live import backup

    url = app_store().url
    target = Path(output) if output else backup.default_target(url, current_app.instance_path)
    try:
        written = backup.backup(url, target)
    except (backup.BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written: {written} ({written.stat().st_size} bytes)")


@db_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_restore(source, yes):
    """Replace the database with a backup (stop the server first)."""
    from live import backup

    url = app_store().url
    if not yes:
        click.confirm(f"Replace everything in the database with {source}? Stop the server first.",
                      abort=True)
    app_store().dispose()
    try:
        saved = backup.restore(url, Path(source))
    except (backup.BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if saved:
        click.echo(f"the database as it was is kept in {saved}")
    click.echo(f"restored from {source}")


@event_group.command("create")
@click.option("--title", required=True)
@click.option("--place")
@click.option("--date", "when", help="YYYY-MM-DD")
def event_create(title, place, when):
    """Create an event and print its id."""
    event_id = _write(lambda db: service.create_event(db, title, place, when).id)
    click.echo(event_id)


@session_group.command("create")
@click.option("--event", "event_id", type=int, required=True)
@click.option("--kind", type=click.Choice(["round_table", "workshop"]), required=True)
@click.option("--title", required=True)
@click.option("--place")
@click.option("--date", "when")
@click.option("--locale", type=click.Choice(["fr", "en"]), default="fr")
def session_create(event_id, kind, title, place, when, locale):
    """Create a session and print its join code and links."""
    def run(db):
        live_session = service.create_session(db, service.get_event(db, event_id), kind, title,
                                              place, when, locale)
        return live_session.id, live_session.join_code, _links(live_session)

    session_id, code, links = _write(run)
    click.echo(f"session {session_id}  code {code}")
    for role, url in links.items():
        click.echo(f"  {role:12} {url}")


@session_group.command("links")
@click.argument("session_id", type=int)
def session_links(session_id):
    """Print a session's join code and capability links."""
    with app_store().read() as db:
        try:
            live_session = service.get_session(db, session_id)
        except DomainError as exc:
            raise click.ClickException(message(exc.code)) from None
        click.echo(f"session {session_id}  code {live_session.join_code}")
        for role, url in _links(live_session).items():
            click.echo(f"  {role:12} {url}")


@session_group.command("rotate-link")
@click.argument("session_id", type=int)
@click.argument("role", type=click.Choice(["facilitator", "moderator", "screen"]))
def rotate_link(session_id, role):
    """Issue a new facilitator, moderator or screen link; the old one stops working."""
    from live.sessions import capabilities

    def run(db):
        live_session = service.get_session(db, session_id)
        capabilities.issue(db, live_session, role)
        return _links(live_session)[role]

    click.echo(_write(run))
    # Sockets of a running server still open with the old link: they are refused at their
    # next event (the server checks the link), and cut at once when rotated from the web.


@click.command("demo")
@with_appcontext
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              default=str(Path(__file__).parent / "demo" / "event.json"))
def demo(path):
    """Create a demo event (sessions and polls) from a JSON description."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))

    def run(db):
        info = data["event"]
        event = service.create_event(db, info["title"], info.get("place"), info.get("date"))
        created = []
        for item in data["sessions"]:
            live_session = service.create_session(db, event, item["kind"], item["title"],
                                                  None, None, item.get("locale", "fr"))
            for activity in item.get("activities", []):
                _add_demo_activity(db, live_session, activity)
            created.append(live_session)
        return [(s.id, s.title, _links(s)) for s in created]

    for session_id, title, links in _write(run):
        click.echo(f"session {session_id}: {title}")
        for role, url in links.items():
            click.echo(f"  {role:12} {url}")


def _add_demo_activity(db, live_session, activity: dict) -> None:
    from live.boards import service as boards
    from live.polls import service as polls
    from live.wordclouds import service as wordclouds

    kind = activity.get("kind")
    if kind == "poll":
        polls.add_poll(db, live_session, activity["type"], activity["question"],
                       activity.get("options"), _settings(activity))
    elif kind == "wordcloud":
        wordclouds.add_wordcloud(db, live_session, activity["prompt"], {
            "entries_per_participant": activity.get("entries_per_participant", 3)})
    elif kind in ("ideas", "questions"):
        settings = {key: activity[source] for key, source in (
            ("columns", "columns"), ("budget", "votes_per_participant"),
            ("premoderation", "premoderation")) if source in activity}
        boards.add_board(db, live_session, kind, activity["prompt"], settings)


def _settings(activity: dict) -> dict:
    settings = {}
    if activity.get("type") == "scale":
        settings["scale_max"] = activity.get("max", 5)
        labels = activity.get("labels") or ["", ""]
        settings["label_low"], settings["label_high"] = labels[0], labels[-1]
    if activity.get("max_choices"):
        settings["max_choices"] = activity["max_choices"]
    return settings
