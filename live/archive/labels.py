"""Words of the archive files (CSV headers, charts, report), in the session's language.

Archives are built away from any request (in a worker process) and always in the language
of the session, not of whoever downloads them, so these words live here rather than in the
request-bound gettext catalogue.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "field": "field", "value": "value", "votes": "votes", "percent": "percent",
        "option": "option", "score": "score", "score_borda": "score (Borda count)",
        "participant": "participant", "answer": "answer", "changes": "changes",
        "first_answer": "first answer (UTC)", "last_change": "last change (UTC)",
        "answers_n": "{n} answers", "at": "time (UTC)", "action": "action", "actor": "by",
        "activity": "activity", "detail": "detail", "joined_at": "joined (UTC)",
        "display_name": "display name", "text": "text", "author": "author", "state": "state",
        "column": "column", "count": "count", "word": "word", "group": "group",
        "report": "Session report", "event_report": "Event synthesis",
        "facts": "Session facts", "event": "Event", "session": "Session", "kind": "Format",
        "place": "Place", "date": "Date", "language": "Language", "started": "Started",
        "ended": "Ended", "participants": "Participants", "activities": "Activities",
        "participation": "Participation over time", "joins": "participants joined (total)",
        "answers_per_bucket": "answers per {minutes} min", "time_axis": "time (UTC)",
        "results": "Results", "no_answers": "No answers.", "top_ideas": "Top ideas",
        "top_questions": "Top questions", "moderation": "Moderation",
        "moderation_none": "No moderation action was recorded.", "timeline": "Timeline",
        "opened": "opened", "closed": "closed", "mean": "mean",
        "generated": "Archive produced by Palabre on {at} (UTC). Schema version {version}.",
        "purged": "Participant-level data was purged on {at}: only aggregates and texts remain.",
        "imported": "This session was imported from another Palabre instance (read only).",
        "round_table": "round table", "workshop": "workshop",
        "poll": "poll", "wordcloud": "word cloud", "ideas": "idea wall", "questions": "Q&A",
        "single": "single choice", "multiple": "multiple choice", "scale": "rating scale",
        "ranking": "ranking", "draft": "draft", "open": "open", "live": "live",
        "sessions": "Sessions", "polls_side_by_side": "Polls side by side",
        "all_words": "Every word of the event", "ideas_ranked": "Ideas, ranked",
        "questions_ranked": "Questions, ranked", "none": "None.",
        "chart_alt": "Bar chart: {title}", "files": "Files of this archive",
        "rank": "rank", "total": "total", "no_participant_data": "not kept",
        "answers_total": "Answers (all activities)", "mean_is": "Mean:", "decimal": ".",
    },
    "fr": {
        "field": "champ", "value": "valeur", "votes": "votes", "percent": "pourcentage",
        "option": "option", "score": "score", "score_borda": "score (méthode de Borda)",
        "participant": "participant", "answer": "réponse", "changes": "modifications",
        "first_answer": "première réponse (UTC)", "last_change": "dernière modification (UTC)",
        "answers_n": "{n} réponses", "at": "heure (UTC)", "action": "action", "actor": "par",
        "activity": "activité", "detail": "détail", "joined_at": "arrivée (UTC)",
        "display_name": "nom affiché", "text": "texte", "author": "auteur", "state": "état",
        "column": "colonne", "count": "nombre", "word": "mot", "group": "groupe",
        "report": "Compte rendu de la session", "event_report": "Synthèse de l’événement",
        "facts": "La session en bref", "event": "Événement", "session": "Session",
        "kind": "Format", "place": "Lieu", "date": "Date", "language": "Langue",
        "started": "Début", "ended": "Fin", "participants": "Participants",
        "activities": "Activités", "participation": "Participation dans le temps",
        "joins": "participants arrivés (cumul)",
        "answers_per_bucket": "réponses par tranche de {minutes} min",
        "time_axis": "heure (UTC)", "results": "Résultats", "no_answers": "Aucune réponse.",
        "top_ideas": "Idées les plus soutenues", "top_questions": "Questions les plus soutenues",
        "moderation": "Modération", "moderation_none": "Aucune action de modération enregistrée.",
        "timeline": "Déroulé", "opened": "ouverte", "closed": "fermée", "mean": "moyenne",
        "generated": "Archive produite par Palabre le {at} (UTC). Version du schéma : {version}.",
        "purged": "Les données individuelles des participants ont été purgées le {at} : "
                  "seuls les agrégats et les textes restent.",
        "imported": "Cette session a été importée d’une autre instance de Palabre (lecture seule).",
        "round_table": "table ronde", "workshop": "atelier",
        "poll": "sondage", "wordcloud": "nuage de mots", "ideas": "mur d’idées",
        "questions": "questions-réponses", "single": "choix unique", "multiple": "choix multiple",
        "scale": "échelle de notation", "ranking": "classement", "draft": "brouillon",
        "open": "ouverte", "live": "en cours", "sessions": "Sessions",
        "polls_side_by_side": "Les sondages côte à côte", "all_words": "Tous les mots de l’événement",
        "ideas_ranked": "Les idées, classées", "questions_ranked": "Les questions, classées",
        "none": "Aucune.", "chart_alt": "Diagramme en barres : {title}",
        "files": "Fichiers de cette archive", "rank": "rang", "total": "total",
        "no_participant_data": "non conservé",
        "answers_total": "Réponses (toutes activités)", "mean_is": "Moyenne :", "decimal": ",",
    },
}


def labels_for(locale: str) -> dict[str, str]:
    """The archive's words in `locale` (French by default)."""
    return LABELS.get(locale, LABELS["fr"])
