"""Words of the archive files (CSV headers, charts, report), in the session's language.

Archives are built away from any request (in the archive worker process) and always in the
language of the session, not of whoever downloads them. Their words are in the same gettext
catalogue as the pages' (`translations/`), under contexts of their own (`msgctxt "archive"`,
`"archive state"`, `"archive moderation"`: the same English word can be three French ones).
The English is the msgid; other languages are read with Babel from the compiled catalogue
(`messages.mo`), or from `messages.po` when it was not compiled since its last change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
DEFAULT = "fr"  # the language of a session whose own has no catalogue

Pgettext = Callable[[str, str], str]


def labels_for(locale: str) -> dict[str, str]:
    """The archive's words in `locale` (French by default)."""
    return dict(_labels(locale if locale == "en" or _has_catalogue(locale) else DEFAULT))


def catalogue_entries() -> dict[str, tuple[str, str]]:
    """Every archive word: its key and its (msgctxt, msgid) in the catalogue."""
    return _tables(lambda context, text: (context, text))


@lru_cache(maxsize=8)
def _labels(locale: str) -> dict[str, str]:
    return _tables(_english if locale == "en" else _translations(locale).pgettext)


def _tables(pgettext):
    return {**_files_words(pgettext), **_report_words(pgettext), **_moderation_words(pgettext),
            **_footprint_words(pgettext), **_pulse_words(pgettext)}


def _pulse_words(pgettext: Pgettext) -> dict:
    """The room's pulse: raised hands and quick reactions (CSV files, the report's chart)."""
    return {
        "pulse_title": pgettext("archive", "The room's pulse"),
        "pace_average": pgettext("archive", "pace (average of the last 3 minutes)"),
        "hands_per_bucket": pgettext("archive", "hands raised per {minutes} min"),
        "reactions_per_bucket": pgettext("archive", "reactions per {minutes} min"),
        "hand_ticket": pgettext("archive", "hand number"), "hand_raised": pgettext("archive", "raised (UTC)"),
        "hand_ended": pgettext("archive", "ended (UTC)"), "hand_outcome": pgettext("archive", "how it ended"),
        "hand_lowered": pgettext("archive", "lowered by the participant"),
        "hand_spoke": pgettext("archive", "spoke"), "hand_cleared": pgettext("archive", "queue cleared"),
        "reaction": pgettext("archive", "reaction"), "reaction_clap": pgettext("archive", "applause"),
        "reaction_like": pgettext("archive", "like"), "reaction_love": pgettext("archive", "love"),
        "reaction_laugh": pgettext("archive", "laughter"), "reaction_think": pgettext("archive", "thinking"),
        "reaction_question": pgettext("archive", "question"),
        "pulse_hands_line": pgettext("archive", "Hands raised: {hands}, of which {spoke} spoke."),
        "pulse_paces_line": pgettext("archive", "Pace choices: {n}."),
        "pulse_chart_alt": pgettext("archive", "Timeline of the room's pulse: pace average, hands raised and "
                                    "reactions over time"),
    }


def _footprint_words(pgettext: Pgettext) -> dict:
    """The report's footprint section (live/footprint.py, docs/footprint.md)."""
    return {
        "footprint": pgettext("archive", "Footprint"),
        "footprint_served": pgettext("archive", "Served: {size} in {requests} HTTP requests and {packets} "
                                     "Socket.IO packets, {per} per participant; server CPU {cpu} s; "
                                     "phones connected at once at the peak: {phones}."),
        "size_kb": pgettext("archive", "{n} kB"), "size_mb": pgettext("archive", "{n} MB"),
        "footprint_estimate": pgettext("archive", "Estimate: {wh} Wh, {g} gCO2e (network {network} Wh, "
                                       "server {server} Wh), good to within a factor of about {factor} "
                                       "either way."),
        "footprint_method": pgettext("archive", "Method: counted on the server. HTTP: body sizes (after "
                                     "compression) of the session's pages and of the static files they "
                                     "asked for; Socket.IO: packets to and from the session's sockets "
                                     "(JSON size); CPU: the server process's CPU time over the session's "
                                     "live span (an upper bound when sessions overlap). Factors: network "
                                     "{kwh} kWh/GB, server {watts} W per busy CPU second, French grid "
                                     "{grid} gCO2e/kWh."),
        "footprint_sources": pgettext("archive", "Sources:"),
    }


def _english(_context: str, text: str) -> str:
    return text


def _has_catalogue(locale: str) -> bool:
    return (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").is_file()


def _translations(locale: str) -> NullTranslations:
    """The compiled catalogue if it is up to date, else the source one (a stale .mo after an
    update of messages.po would give English words to a French archive)."""
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    try:
        fresh = (folder / "messages.mo").stat().st_mtime >= (folder / "messages.po").stat().st_mtime
    except OSError:
        fresh = False
    compiled = Translations.load(str(TRANSLATIONS), [locale]) if fresh else None
    if isinstance(compiled, Translations):
        return compiled
    with open(folder / "messages.po", "rb") as source:
        catalog = read_po(source, locale=locale)
    translations = NullTranslations()
    translated = {(message.context, message.id): message.string for message in catalog
                  if isinstance(message.id, str) and message.string}
    translations.pgettext = lambda context, text: translated.get((context, text), text)
    return translations


def _files_words(pgettext: Pgettext) -> dict:
    """CSV headers and values, charts."""
    return {
        "field": pgettext("archive", "field"), "value": pgettext("archive", "value"),
        "votes": pgettext("archive", "votes"), "percent": pgettext("archive", "percent"),
        "option": pgettext("archive", "option"), "score": pgettext("archive", "score"),
        "score_borda": pgettext("archive", "score (Borda count)"),
        "participant": pgettext("archive", "participant"), "answer": pgettext("archive", "answer"),
        "changes": pgettext("archive", "changes"),
        "first_answer": pgettext("archive", "first answer (UTC)"),
        "last_change": pgettext("archive", "last change (UTC)"),
        "answers_n": pgettext("archive", "{n} answers"), "at": pgettext("archive", "time (UTC)"),
        "action": pgettext("archive", "action"), "actor": pgettext("archive", "by"),
        "activity": pgettext("archive", "activity"), "detail": pgettext("archive", "detail"),
        "joined_at": pgettext("archive", "joined (UTC)"),
        "pace": pgettext("archive", "pace"), "pace_fast": pgettext("archive", "too fast"),
        "pace_ok": pgettext("archive", "OK"), "pace_slow": pgettext("archive", "too slow"),
        "display_name": pgettext("archive", "display name"), "text": pgettext("archive", "text"),
        "author": pgettext("archive", "author"), "state": pgettext("archive", "state"),
        "column": pgettext("archive", "column"), "count": pgettext("archive", "count"),
        "phone_votes": pgettext("archive", "phone votes"), "paper_votes": pgettext("archive", "paper votes"),
        "paper_total": pgettext("archive", "paper total"),
        "paper_entries": pgettext("archive", "Paper counts entered"),
        "word": pgettext("archive", "word"), "group": pgettext("archive", "group"),
        "report": pgettext("archive", "Session report"),
        "event_report": pgettext("archive", "Event synthesis"),
        "facts": pgettext("archive", "Session facts"), "event": pgettext("archive", "Event"),
        "session": pgettext("archive", "Session"), "kind": pgettext("archive", "Format"),
        "place": pgettext("archive", "Place"), "date": pgettext("archive", "Date"),
        "language": pgettext("archive", "Language"), "started": pgettext("archive", "Started"),
        "ended": pgettext("archive", "Ended"), "participants": pgettext("archive", "Participants"),
        "activities": pgettext("archive", "Activities"),
        "door_codes": pgettext("archive", "Voting codes"),
        "timer": pgettext("archive", "timer: {length}"),
        "timer_autoclose": pgettext("archive", "closes the activity when time is up"),
        "door_codes_counts": pgettext("archive", "%(issued)s issued: %(used)s used, %(unused)s unused, "
                                      "%(revoked)s revoked"),
        "participation": pgettext("archive", "Participation over time"),
        "joins": pgettext("archive", "participants joined (total)"),
        "answers_per_bucket": pgettext("archive", "answers per {minutes} min"),
        "time_axis": pgettext("archive", "time (UTC)"), "results": pgettext("archive", "Results"),
        "no_answers": pgettext("archive", "No answers."), "top_ideas": pgettext("archive", "Top ideas"),
        "top_questions": pgettext("archive", "Top questions"),
        "moderation": pgettext("archive", "Moderation"),
        "appendix": pgettext("archive", "Appendix"),
        "moderation_none": pgettext("archive", "No moderation action was recorded."),
        "timeline": pgettext("archive", "Timeline"), "opened": pgettext("archive", "opened"),
        "closed": pgettext("archive", "closed"),
    }


def _report_words(pgettext: Pgettext) -> dict:
    """The report and the synthesis."""
    return {
        "mean": pgettext("archive", "mean"),
        "generated": pgettext(
            "archive", "Archive produced by Palabre on {at} (UTC). Schema version {version}."),
        "purged": pgettext(
            "archive", "Participant-level data was purged on {at}: only aggregates and texts remain."),
        "imported": pgettext(
            "archive", "This session was imported from another Palabre instance (read only)."),
        "round_table": pgettext("archive", "round table"), "workshop": pgettext("archive", "workshop"),
        "poll": pgettext("archive", "poll"), "wordcloud": pgettext("archive", "word cloud"),
        "ideas": pgettext("archive", "idea wall"), "questions": pgettext("archive", "Q&A"),
        "single": pgettext("archive", "single choice"),
        "multiple": pgettext("archive", "multiple choice"), "scale": pgettext("archive", "rating scale"),
        "ranking": pgettext("archive", "ranking"), "draft": pgettext("archive", "draft"),
        "open": pgettext("archive", "open"), "live": pgettext("archive", "live"),
        "sessions": pgettext("archive", "Sessions"),
        "polls_side_by_side": pgettext("archive", "Polls side by side"),
        "all_words": pgettext("archive", "Every word of the event"),
        "ideas_ranked": pgettext("archive", "Ideas, ranked"),
        "questions_ranked": pgettext("archive", "Questions, ranked"),
        "none": pgettext("archive", "None."), "chart_alt": pgettext("archive", "Bar chart: {title}"),
        "chart_alt_paper": pgettext("archive", "Bar chart: {title}. Each bar is the phone votes with the "
                                    "paper votes stacked after them (hatched); the table below gives both."),
        "files": pgettext("archive", "Files of this archive"), "rank": pgettext("archive", "rank"),
        "total": pgettext("archive", "total"), "no_participant_data": pgettext("archive", "not kept"),
        "answers_total": pgettext("archive", "Answers (all activities)"),
        "mean_is": pgettext("archive", "Mean:"), "decimal": pgettext("archive", "."),
        "spellings": pgettext("archive", "spellings"),
        "merged_keys": pgettext("archive", "groups merged into it"),
        "hidden": pgettext("archive", "hidden"), "held": pgettext("archive", "held back"),
        "released": pgettext("archive", "released"), "merged_into": pgettext("archive", "merged into"),
        "sent_at": pgettext("archive", "sent (UTC)"),
        "withdrawn_at": pgettext("archive", "withdrawn (UTC)"), "yes": pgettext("archive", "yes"),
        "no": pgettext("archive", "no"), "item": pgettext("archive", "item"),
        "signed": pgettext("archive", "signed"), "pinned": pgettext("archive", "pinned"),
        "answered": pgettext("archive", "answered"), "highlighted": pgettext("archive", "highlighted"),
        "original_text": pgettext("archive", "text as sent"), "slot": pgettext("archive", "dot"),
        "moderator": pgettext("archive", "moderator"),
        "facilitator": pgettext("archive", "facilitator"),
        "cloud_alt": pgettext("archive", "Word cloud: {title}"),
        "words_n": pgettext("archive", "{n} entries from {people} participants"),
        "items_n": pgettext("archive", "{n} contributions"),
        "contributors": pgettext("archive", "{n} contributors"),
        "shown_of": pgettext("archive", "{shown} of {total} groups shown"),
    }


def _moderation_words(pgettext: Pgettext) -> dict:
    """States of contributions and moderation actions (contexts of their own: "hidden" is
    "masquée" as a state, "masquages" as a count of actions)."""
    return {
        "state_pending": pgettext("archive state", "waiting"),
        "state_visible": pgettext("archive state", "published (not reviewed)"),
        "state_approved": pgettext("archive state", "approved"),
        "state_rejected": pgettext("archive state", "rejected"),
        "state_hidden": pgettext("archive state", "hidden"),
        "state_withdrawn": pgettext("archive state", "withdrawn"),
        "state_merged": pgettext("archive state", "merged"),
        "mod_approve": pgettext("archive moderation", "approved"),
        "mod_reject": pgettext("archive moderation", "rejected"),
        "mod_hide": pgettext("archive moderation", "hidden"),
        "mod_pin": pgettext("archive moderation", "pinned"),
        "mod_unpin": pgettext("archive moderation", "unpinned"),
        "mod_highlight": pgettext("archive moderation", "highlighted"),
        "mod_unhighlight": pgettext("archive moderation", "highlight removed"),
        "mod_answer": pgettext("archive moderation", "marked answered"),
        "mod_unanswer": pgettext("archive moderation", "answered mark removed"),
        "mod_edit": pgettext("archive moderation", "edited"),
        "mod_move": pgettext("archive moderation", "moved"),
        "mod_merge": pgettext("archive moderation", "merged (target)"),
        "mod_merged_into": pgettext("archive moderation", "merged into another"),
        "mod_current": pgettext("archive moderation", "being answered"),
        "mod_word_hide": pgettext("archive moderation", "word hidden"),
        "mod_word_restore": pgettext("archive moderation", "word shown again"),
        "mod_word_merge": pgettext("archive moderation", "words merged"),
        "mod_word_unmerge": pgettext("archive moderation", "words unmerged"),
        "mod_word_release": pgettext("archive moderation", "held word released"),
        "mod_word_hold": pgettext("archive moderation", "word held back"),
        "mod_board_display": pgettext("archive moderation", "display changed"),
    }
