"""The archive's results chart shows phone and paper votes apart: each bar is the phones' votes
with the paper votes stacked after them (hatched), a legend names both in the session's
language, and the report's text alternative says so. Read from the SVG of the ZIP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from archive_helpers import unzip
from test_paper import _archived_with_paper

SVG = "{http://www.w3.org/2000/svg}"


def _extent(svg: ET.Element, gid: str) -> tuple[float, float, float, float]:
    """min x, max x, min y, max y of the bar drawn in the group `gid`."""
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("id") == gid)
    path = next(group.iter(f"{SVG}path")).get("d")
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), max(xs), min(ys), max(ys)


def test_the_results_chart_stacks_phone_and_paper_votes_with_a_legend(store, live, tmp_path):
    data, doc = _archived_with_paper(store, live)
    files = unzip(data)
    single, scale = doc["activities"][0], doc["activities"][1]
    svg = ET.fromstring(files["activities/01-poll-results.svg"])
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "votes par téléphone" in texts and "votes papier" in texts  # the legend, in French
    counted = single["results"]["options"][2]  # "=1+1": phones and 5 paper votes
    assert counted["paper"] == 5
    phone_bar, paper_bar = _extent(svg, "phone-2"), _extent(svg, "paper-2")
    assert abs(paper_bar[0] - phone_bar[1]) < 0.5  # paper starts where the phones end
    assert abs(paper_bar[2] - phone_bar[2]) < 0.5  # on the same row
    unit = (paper_bar[1] - paper_bar[0]) / 5
    if counted["phone"]:
        assert abs((phone_bar[1] - phone_bar[0]) / unit - counted["phone"]) < 0.05
    for n, option in enumerate(single["results"]["options"]):
        if not option.get("paper"):
            zero = _extent(svg, f"paper-{n}")
            assert zero[1] - zero[0] < 0.01  # no paper, no width
    # The scale's bars stand: paper on top of the phones (bucket 4 has 3 paper votes).
    upright = ET.fromstring(files["activities/02-poll-results.svg"])
    phone4, paper4 = _extent(upright, "phone-3"), _extent(upright, "paper-3")
    assert abs(paper4[3] - phone4[2]) < 0.5 and abs(paper4[0] - phone4[0]) < 0.5
    assert scale["results"]["buckets"][3]["paper"] == 3
    # A poll without paper counts keeps its single bars.
    plain = ET.fromstring(files["activities/03-poll-results.svg"])
    assert not any((g.get("id") or "").startswith("paper-") for g in plain.iter(f"{SVG}g"))
    report = files["report.html"].decode()
    assert "Chaque barre montre les votes par téléphone, puis les votes papier" in report
    for name in ("01-poll-results.png", "02-poll-results.png"):
        Path(tmp_path / name).write_bytes(files[f"activities/{name}"])
