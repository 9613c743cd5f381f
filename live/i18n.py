"""Languages: the locale of each request, and error messages in the user's language."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_translations, refresh
from flask_babel import lazy_gettext as _l

babel = Babel()

FIELDS = {
    "title": _l("title"), "place": _l("place"), "prompt": _l("question"),
    "option": _l("option"), "name": _l("name"), "label_low": _l("low-end label"),
    "label_high": _l("high-end label"),
    # Idea walls and Q&A
    "contribution": _l("text"), "column": _l("column name"),
    "detail": _l("detail"),
}

MESSAGES = {
    "not_joined": _l("This connection has not joined a session. Reload the page."),
    "no_identity": _l("Your browser did not send its cookie. Reload the page (cookies must be allowed)."),
    "forbidden": _l("You are not allowed to do that from this page."),
    "rate_limited": _l("Too many actions at once. Wait a few seconds and try again."),
    "bad_payload": _l("The request was malformed. Reload the page."),
    "missing_cid": _l("The request had no valid id. Reload the page."),
    "payload_too_large": _l("The request is too large."),
    "server_error": _l("Something went wrong on the server; nothing was changed. Try again."),
    "unknown_code": _l("No session has this code. Check the code on the screen."),
    "session_ended": _l("This session has ended."),
    "door_code_required": _l("This session needs a voting code: type the one on the card you were given."),
    "door_code_unknown": _l("This voting code is not valid for this session. Check the card and try again."),
    "door_code_used": _l("This voting code has already been used: each code lets one person in, once."),
    "door_code_revoked": _l("This voting code has been revoked by the organiser."),
    "door_code_not_found": _l("This session has no voting code with this number."),
    "bad_code_count": _l("Choose between 1 and %(limit)s codes."),
    "too_many_codes": _l("A session can have at most %(limit)s voting codes."),
    "bad_wifi_ssid": _l("The Wi-Fi name must be printable and at most 32 bytes long."),
    "bad_wifi_password": _l("The Wi-Fi password must be 8 to 63 printable characters "
                            "(or empty for an open network)."),
    "bad_token": _l("This link is not valid (or no longer valid). Ask the organiser for the current link."),
    "session_not_found": _l("This session does not exist."),
    "event_not_found": _l("This event does not exist."),
    "activity_not_found": _l("This activity does not exist in this session."),
    "bad_session_kind": _l("Choose round table or workshop."),
    "bad_preset": _l("Unknown ready-made activity."),
    "bad_date": _l("The date is not valid (use YYYY-MM-DD)."),
    "text_empty": _l("The %(field)s is empty."),
    "text_too_long": _l("The %(field)s is too long (at most %(limit)s characters)."),
    "text_type": _l("The %(field)s must be text."),
    "has_answers": _l("This activity already has answers: reset it first."),
    "cannot_move": _l("This activity cannot move further."),
    "close_first": _l("Close this activity first."),
    "already_open": _l("This activity is already open."),
    "bad_timer": _l("A timer lasts between %(low)s and %(limit)s seconds."),
    "bad_timer_minutes": _l("A timer lasts between %(low)s and %(limit)s minutes."),
    "timer_not_running": _l("The timer is not running."),
    "timer_not_paused": _l("The timer is not paused."),
    "no_timer": _l("This activity has no timer: start one first."),
    "not_open": _l("This activity is not open."),
    "nothing_to_reset": _l("This activity has nothing to reset: it has not been opened."),
    "already_revealed": _l("The results are already shown."),
    "already_hidden": _l("The results are already hidden."),
    "bad_poll_type": _l("Unknown poll type."),
    "bad_scale": _l("A scale goes from 1 to a number between 2 and %(limit)s."),
    "bad_options": _l("The options are missing."),
    "option_count": _l("A poll needs between 2 and %(limit)s options."),
    "duplicate_options": _l("Two options have the same text."),
    "bad_max_choices": _l("The maximum number of choices must be between 1 and %(limit)s."),
    "not_a_poll": _l("This activity is not a poll."),
    "bad_choice": _l("This answer is not valid."),
    "choice_out_of_range": _l("Choose a value between 1 and %(limit)s."),
    "empty_choice": _l("Choose at least one option."),
    "duplicate_choice": _l("The same option was chosen twice."),
    "unknown_option": _l("This option is not part of the poll."),
    "one_choice_only": _l("Choose only one option."),
    "rank_all": _l("Rank every option."),
    "poll_closed": _l("This poll is closed: votes are no longer accepted."),
    "poll_not_open": _l("This poll is not open yet."),
    "paper_not_countable": _l("Paper counts can be added to a single choice, multiple choice or "
                              "rating scale poll only, not to a ranking."),
    "bad_paper_count": _l("A paper count is a whole number between %(low)s and %(limit)s, not zero."),
    "bad_paper_option": _l("Choose an option of this poll for the paper count."),
    "paper_negative": _l("This correction would make the paper total negative (it is %(total)s)."),
    "paper_saved": _l("Paper count added."),
    "paper_total_mismatch": _l("A paper total is not the sum of the counts entered before it."),
    "bad_command": _l("Unknown command."),
    "wrong_password": _l("Wrong password."),
    "not_found_page": _l("This page does not exist."),
    "vote_saved": _l("Your answer is saved."),
    "pace_saved": _l("Thank you: the facilitator sees the room's pace."),
    "pulse_off": _l("The pace widget is switched off in this session."),
    "bad_pace": _l("Choose too fast, OK or too slow."),
    "bad_reaction": _l("Choose one of the reactions shown."),
    "reactions_too_fast": _l("You are sending reactions very fast: wait a few seconds."),
    "reaction_saved": _l("Reaction sent."),
    "hand_raised": _l("Your hand is raised: the facilitator sees you in the queue."),
    "hand_lowered": _l("Your hand is lowered."),
    "hand_gone": _l("This hand is no longer in the queue."),
    "organiser_only": _l("Creating events and sessions is allowed from the organiser's machine only, "
                         "or with the organiser password."),
    # Organiser security (live/security.py, live/auth.py)
    "organiser_sign_in": _l("Sign in with the organiser password first."),
    "organiser_needs_password": _l("The organiser pages need a password: this server is reachable from "
                                   "other machines. Set LIVE_ADMIN_PASSWORD and restart."),
    "csrf_failed": _l("This form has expired or did not come from this site: nothing was changed. "
                      "Go back, reload the page and try again."),
    "cross_site_refused": _l("Refused: this form was sent from another site. Nothing was changed."),
    "host_refused": _l("Refused: this server does not answer to the name “%(host)s”. "
                       "Use its address, or add the name to LIVE_TRUSTED_HOSTS."),
    "host_refused_socket": _l("Refused: this server does not answer to the name in the address bar. "
                              "Use its address."),
    "login_throttled": _l("Too many attempts. Wait a minute before trying again."),
    "upload_too_large_mb": _l("The file is too large: at most %(limit)s MB. Nothing was changed."),
    "upload_too_large_kb": _l("The form is too large: at most %(limit)s KB. Nothing was changed."),
    "link_rotated": _l("New link issued: the old one no longer works, and screens or consoles "
                       "still open with it have been disconnected."),
    "bad_link_role": _l("Unknown link."),
    # Idea walls and Q&A (live/boards)
    "not_a_board": _l("This activity is not an idea wall or a Q&A."),
    "bad_columns": _l("An idea wall has between 1 and %(limit)s columns."),
    "bad_budget": _l("The number of votes must be between 1 and %(limit)s."),
    "bad_sort": _l("Sort by votes or by time."),
    "column_in_use": _l("A column that holds ideas cannot be removed: move them first."),
    "budget_in_use": _l("Participants have already spent more votes than that: the number of "
                        "votes can only go down once they take some back (or after a reset)."),
    "stack_in_use": _l("Some participants already put several votes on one idea: "
                       "they must take them back first (or reset the wall)."),
    "board_closed": _l("This activity is closed: contributions and votes are no longer accepted."),
    "board_not_open": _l("This activity is not open yet."),
    "bad_column": _l("This column does not exist."),
    "item_not_found": _l("This contribution does not exist (or is no longer available)."),
    "already_moderated": _l("A moderator has already reviewed this contribution: "
                            "it can no longer be changed."),
    "item_not_votable": _l("This contribution cannot receive votes (it is not published)."),
    "already_voted": _l("You have already voted for this one."),
    "votes_after_reveal": _l("Votes open once the facilitator reveals everyone's contributions."),
    "no_vote_to_take_back": _l("You have no vote on this one to take back."),
    "bad_action": _l("Unknown moderation action."),
    "bad_items": _l("Choose between 1 and %(limit)s contributions."),
    "changed_meanwhile": _l("Someone changed this meanwhile: nothing was done. "
                            "Check the current state and try again."),
    "not_possible_now": _l("This action is not possible in the contribution's current state."),
    "bad_display": _l("Nothing to change on the display."),
    "item_not_published": _l("Only a published contribution can be shown."),
    "not_questions": _l("Only a Q&A has a question being answered."),
    "item_saved": _l("Your contribution is saved."),
    "item_saved_pending": _l("Your contribution is saved: it will appear once a moderator approves it."),
    "item_withdrawn": _l("Your contribution is withdrawn."),
    "board_vote_saved": _l("Your vote is saved."),
    "board_vote_taken_back": _l("Your vote is taken back."),
    "moderation_done": _l("Done."),
    "item_now": _l("#%(item)s is now %(status)s: “%(text)s”."),
    # Word clouds (live/wordclouds)
    "not_a_wordcloud": _l("This activity is not a word cloud."),
    "bad_entry_count": _l("The number of entries per participant must be between %(low)s and %(limit)s."),
    "bad_entry_length": _l("The maximum length of an entry must be between %(low)s and %(limit)s."),
    "activity_closed": _l("This activity is closed: entries are no longer accepted."),
    "activity_not_open": _l("This activity is not open yet."),
    "entry_empty": _l("This entry is empty once cleaned up: type a word."),
    "entry_too_long": _l("This entry is too long (at most %(limit)s characters)."),
    "entry_type": _l("An entry must be text."),
    "entry_stopword": _l("This word alone says too little (\"the\", \"de\"...): try another word."),
    "entry_not_found": _l("This entry does not exist (or was already withdrawn)."),
    "group_not_found": _l("This word is not in the cloud."),
    "bad_merge": _l("Choose another word of this cloud to merge into."),
    "not_merged": _l("This word is not merged."),
    "already_frozen": _l("This word cloud is already frozen."),
    "not_frozen": _l("This word cloud is not frozen."),
    "word_merged": _l("This word is merged into “%(into)s”: act on that group, or unmerge it first."),
    "words_too_fast": _l("You are sending words very fast: wait a few seconds and try again."),
    # --- archives (export, import, retention) ---
    "import_bad_path": _l("Refused: the archive contains a path outside the archive or an absolute "
                          "path (%(name)s). Nothing was imported."),
    "import_symlink": _l("Refused: the archive contains a symbolic link (%(name)s). Nothing was imported."),
    "import_too_large": _l("Refused: the archive is too large (at most %(limit)s MB). Nothing was imported."),
    "import_member_too_large": _l("Refused: a file in the archive is too large (%(name)s). "
                                  "Nothing was imported."),
    "import_compression_ratio": _l("Refused: a file in the archive is compressed suspiciously much "
                                   "(%(name)s). Nothing was imported."),
    "import_too_many_members": _l("Refused: the archive holds too many files (at most %(limit)s). "
                                  "Nothing was imported."),
    "import_duplicate_member": _l("Refused: the archive holds the same file twice (%(name)s). "
                                  "Nothing was imported."),
    "import_encrypted": _l("Refused: the archive is encrypted. Nothing was imported."),
    "import_not_zip": _l("Refused: this file is not a readable ZIP archive. Nothing was imported."),
    "import_no_session": _l("Refused: no session.json in this archive. Is it a Palabre archive? "
                            "Nothing was imported."),
    "import_bad_json": _l("Refused: session.json is not valid JSON. Nothing was imported."),
    "import_wrong_version": _l("Refused: this archive's format (version %(version)s) is not one this "
                               "Palabre reads. Nothing was imported."),
    "import_bad_schema": _l("Refused: session.json does not match the archive schema (at %(where)s). "
                            "Nothing was imported."),
    "import_bad_reference": _l("Refused: session.json refers to something it does not contain "
                               "(%(where)s). Nothing was imported."),
    "import_unknown_kind": _l("Refused: this Palabre does not know the activity kind “%(kind)s”. "
                              "Nothing was imported."),
    "import_no_file": _l("Choose an archive file (.zip) to import."),
    "purge_not_ended": _l("End the session before purging its participant data."),
    "already_purged": _l("The participant data of this session was already purged."),
    "purge_export_first": _l("No archive of this session was exported since it ended: export it first, "
                             "or tick “purge without an export”."),
    "purged": _l("Participant data purged: aggregates and texts are kept."),
    "bad_retention": _l("The retention must be a number of days between 0 and %(limit)s, or empty."),
    "retention_saved": _l("Retention saved."),
    # --- faults (live/realtime, live/store, live/runtime) ---
    "unknown_event": _l("This request is not one the server knows. Reload the page."),
    "cid_reused": _l("This request reused the id of another request: nothing was done. Reload the page."),
    "database_busy": _l("The server is busy: your action was not saved. Try again in a moment."),
    "storage_full": _l("The server's disk is full: your action was not saved. Tell the organiser."),
    "server_stopping": _l("The server is restarting: your action was not saved. Try again in a moment."),
    # Printed by wsgi.py (no application yet): read from the catalogue there, see _refused().
    "start_refused": _l("Palabre cannot start: %(reason)s"),
    "port_in_use": _l("Port %(port)s is already in use (is Palabre already running?). Stop the other "
                      "server or choose another port with LIVE_PORT."),
    "retention_due": _l("%(count)s ended session(s) are past the retention period: nothing is purged "
                        "until you apply it below."),
    "confirm_needed": _l("Nothing was purged: tick the box to confirm (a purge cannot be undone)."),
    "nothing_due": _l("No session is past the retention period: nothing to purge."),
    "job_failed": _l("The job stopped on an error; what it deleted stays deleted. Run it again to finish."),
    # One definition of valid (live/validation.py)
    "bad_settings": _l("These settings are not valid."),
    "text_not_clean": _l("The %(field)s holds characters a form would have removed (control "
                         "characters, spaces at either end)."),
    "bad_detail": _l("A timeline entry's detail is not valid."),
    "bad_ranking": _l("Give each option a different place, from 1 to %(count)s."),
    "import_failed": _l("The import stopped on an error: nothing of it was kept. Try again; if it "
                        "fails again, the server's log says why."),
    "import_invalid": _l("Refused: session.json holds something Palabre could not have produced "
                         "(at %(where)s: %(reason)s). Nothing was imported."),
    # Join admission (live/sessions/admission.py): the waiting page
    "join_queue_full": _l("Many people are joining right now. This page will try again by itself: "
                          "keep it open."),
}

# Messages whose wording depends on a number: (singular, plural, the parameter that counts).
PLURALS = {
    "join_queue_place": ("You are number %(place)s in line. About %(seconds)s second to wait.",
                         "You are number %(place)s in line. About %(seconds)s seconds to wait.", "seconds"),
    "too_many_choices": ("Choose at most %(limit)s option.", "Choose at most %(limit)s options.", "limit"),
    "too_many_entries": ("You have sent your %(limit)s entry. Withdraw it to send another.",
                         "You have sent your %(limit)s entries. Withdraw one to send another.", "limit"),
    "no_votes_left": ("You have used your %(limit)s vote. Take it back to vote again.",
                      "You have used all your %(limit)s votes. Take one back to vote again.", "limit"),
    "too_many_items": ("You have sent the maximum of %(limit)s contribution.",
                       "You have sent the maximum of %(limit)s contributions.", "limit"),
    "posting_too_fast": ("At most %(limit)s contribution a minute: wait a little.",
                         "At most %(limit)s contributions a minute: wait a little.", "limit"),
    "imported": ("Imported: %(count)s session, read only.",
                 "Imported: %(count)s sessions, read only.", "count"),
}


# The cookie that keeps a language chosen on a participant page (the phones follow the session's
# language until their user picks another); the other pages keep theirs in "lang".
PARTICIPANT_LANG_COOKIE = "plang"


def select_locale() -> str:
    """The request's locale. A page of a session's audience (`use_session_language`: the phone,
    the screen) speaks the session's language unless ?lang= (or, on a phone, the participant's
    earlier choice) says otherwise; any other page: ?lang=, the lang cookie, the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line, background tasks
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.args.get("lang") in languages:
        return request.args["lang"]
    audience = g.get("session_language")
    if audience is not None:
        locale, cookie = audience
        chosen = request.cookies.get(cookie) if cookie else None
        return chosen if chosen in languages else locale
    asked = request.cookies.get("lang")
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def use_session_language(locale: str, cookie: str | None = PARTICIPANT_LANG_COOKIE) -> None:
    """This request serves a session's audience: speak `locale` (the session's) unless the user
    chose otherwise; a choice made here (?lang=) is kept in `cookie` (None: not kept)."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    g.session_language = (locale if locale in languages else default, cookie)
    refresh()  # a locale computed earlier in this request is forgotten


def message(code: str, locale: str | None = None, **params) -> str:
    """The user-facing message of an error code, in `locale` (or the request's)."""
    text = MESSAGES.get(code, MESSAGES["server_error"])
    with force_locale(locale) if locale else _null():
        if code in PLURALS:
            singular, plural, counter = PLURALS[code]
            count = params.get(counter)
            text = get_translations().ungettext(singular, plural, count if isinstance(count, int) else 2)
        if "field" in params:
            params["field"] = str(FIELDS.get(params["field"], params["field"]))
        params = {k: ("" if v is None else v) for k, v in params.items()}
        try:
            return str(text) % params if params else str(text)
        except (KeyError, TypeError, ValueError):
            return str(text)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def install_template_gettext(app) -> None:
    """The templates' `_()` (Jinja's i18n extension) with the request's catalogue looked up once
    per locale, not at every string: Flask-Babel's finds the domain, the context and the locale
    again for each of the ~120 strings of a participant page (a third of its rendering, the
    largest part of a join's CPU after the database). Same catalogues, same results."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def _translations():
    """Flask-Babel's translations of the current locale, kept beside the locale it read (a
    locale changed since, by `force_locale` or `refresh`, is another object: looked up again)."""
    context = g.get("_flask_babel") if g else None
    if context is not None:
        kept = getattr(context, "palabre_translations", None)
        if kept is not None and kept[0] is getattr(context, "babel_locale", None):
            return kept[1]
    translations = get_translations()
    context = g.get("_flask_babel") if g else None
    locale = getattr(context, "babel_locale", None) if context is not None else None
    if locale is not None:
        context.palabre_translations = (locale, translations)
    return translations
