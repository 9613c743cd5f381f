"""The synthesis of an event: every idea and question ranked, polls side by side, one word cloud."""

from __future__ import annotations

import json
from collections import Counter

from live.archive.csvsafe import to_csv
from live.archive.document import SCHEMA_VERSION
from live.archive.labels import labels_for
from live.archive.report import data_uri, event_report, ranked_items
from live.archive.timefmt import date_text, time_text
from live.store import utcnow


def poll_rows(doc: dict) -> list[dict]:
    """Each poll of a session with its results as (label, value, share) rows."""
    polls = []
    for activity in doc["activities"]:
        if activity["kind"] != "poll":
            continue
        results = activity.get("results") or {}
        total = results.get("total") or 0
        if activity["type"] == "scale":
            settings = activity.get("settings") or {}
            rows = [(str(b["value"]), b["count"]) for b in results.get("buckets", [])]
            for index, key in ((0, "label_low"), (-1, "label_high")):
                if rows and settings.get(key):
                    rows[index] = (f"{rows[index][0]} ({settings[key]})", rows[index][1])
        elif activity["type"] == "ranking":
            rows = [(o["label"], o["score"]) for o in results.get("options", [])]
        else:
            rows = [(o["label"], o["count"]) for o in results.get("options", [])]
        top = max([v for _, v in rows] + [1])
        polls.append({"prompt": activity["prompt"], "type": activity["type"], "total": total,
                      "mean": results.get("mean"),
                      "rows": [{"label": label, "value": value, "width": round(100 * value / top),
                                "share": round(100 * value / total) if total and activity["type"] != "ranking"
                                else None} for label, value in rows]})
    return polls


def all_words(docs: list[dict]) -> Counter:
    """Every word of every word cloud of the event, with its total count."""
    words: Counter = Counter()
    for doc in docs:
        for activity in doc["activities"]:
            for word in activity.get("words", []) if activity["kind"] == "wordcloud" else []:
                words[word["text"]] += word.get("count", 1)
    return words


def event_files(event, docs: list[dict], render) -> dict[str, bytes]:
    """synthesis.html, event.json and the synthesis CSVs and word cloud."""
    locale = docs[0]["session"]["locale"] if docs else "fr"
    labels = labels_for(locale)
    ideas = sorted(((item, doc) for doc in docs for item in ranked_items(doc, "ideas")),
                   key=lambda pair: -(pair[0].get("score") or 0))
    questions = sorted(((item, doc) for doc in docs for item in ranked_items(doc, "questions")),
                       key=lambda pair: -(pair[0].get("score") or 0))
    files: dict[str, bytes] = {}
    words = all_words(docs)
    cloud = None
    if words:
        drawn = render({"chart": "wordcloud", "name": "words", "frequencies": dict(words.most_common(200))})
        files["synthesis/wordcloud.svg"], files["synthesis/wordcloud.png"] = drawn["svg"], drawn["png"]
        cloud = data_uri("wordcloud.svg", drawn["svg"])
        files["synthesis/words.csv"] = to_csv([labels["word"], labels["count"]], words.most_common(), locale)
    header = [labels["rank"], labels["session"], labels["activity"], labels["text"], labels["score"]]
    files["synthesis/ideas.csv"] = to_csv(header, [
        [i, doc["session"]["title"], item["activity"], item["text"], item.get("score")]
        for i, (item, doc) in enumerate(ideas, start=1)], locale)
    files["synthesis/questions.csv"] = to_csv(header, [
        [i, doc["session"]["title"], item["activity"], item["text"], item.get("score")]
        for i, (item, doc) in enumerate(questions, start=1)], locale)
    sessions = [{"title": d["session"]["title"], "kind": d["session"]["kind"],
                 "participants": d["session"]["participant_count"], "polls": poll_rows(d),
                 "activities": len(d["activities"])} for d in docs]
    files["synthesis/polls.csv"] = to_csv(
        [labels["session"], labels["activity"], labels["option"], labels["value"], labels["percent"]],
        [[s["title"], p["prompt"], r["label"], r["value"], r["share"]]
         for s in sessions for p in s["polls"] for r in p["rows"]], locale)
    summary = {"schema_version": SCHEMA_VERSION, "format": "palabre-event-archive",
               "exported_at": time_text(utcnow()),
               "event": {"title": event.title, "place": event.place, "date": date_text(event.date)},
               "sessions": [{"title": d["session"]["title"], "kind": d["session"]["kind"],
                             "participant_count": d["session"]["participant_count"]} for d in docs]}
    files["event.json"] = json.dumps(summary, ensure_ascii=False, indent=1).encode("utf-8")
    files["synthesis.html"] = event_report({
        "L": labels, "locale": locale, "event": summary["event"], "sessions": sessions,
        "ideas": [{**item, "session": doc["session"]["title"]} for item, doc in ideas[:30]],
        "questions": [{**item, "session": doc["session"]["title"]} for item, doc in questions[:30]],
        "cloud": cloud, "words": words.most_common(30),
        "generated": labels["generated"].format(at=summary["exported_at"][:16].replace("T", " "),
                                                version=SCHEMA_VERSION)}).encode("utf-8")
    return files
