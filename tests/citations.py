"""Citations of our own docs ("docs/vonage-reports-api.md, Rate limits", "... open question 5").

Why: code comments, test docstrings and the OpenAPI relaxations justify themselves by pointing at a section of
the docs written for this repository. A pointer to a heading that was renamed or never existed is as useless
as a link outside the repository, so the tests check that every cited section exists.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_DOC = "docs/vonage-reports-api.md"
CITABLE_DOCS = (API_DOC, "docs/airflow-notes.md", "docs/postgres-notes.md")

#: "docs/<doc>.md, <section>": the section name follows the comma
CITATION = re.compile(r"(docs/(?:vonage-reports-api|airflow-notes|postgres-notes)\.md),[ \t]+(?P<rest>.*)")
#: "open question N" refers to the numbered list in docs/vonage-reports-api.md, Where sources disagree
OPEN_QUESTION = re.compile(r"\bopen questions? (?P<number>\d+)", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")
_NUMBERED = re.compile(r"^(?P<number>\d+)\.\s+")
_MARKERS = re.compile(r"^[\s\"'`#*:/|-]+")


@cache
def headings(doc: str) -> tuple[str, ...]:
    """The heading titles of a doc, numbered ones also without their "N. " prefix."""
    titles: list[str] = []
    in_code = False
    for line in (ROOT / doc).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            title = match["title"]
            titles.append(title)
            titles.append(_NUMBERED.sub("", title))
    return tuple(titles)


@cache
def open_questions() -> frozenset[int]:
    """Numbers of the open questions ("### N. ...") in docs/vonage-reports-api.md."""
    numbers = set()
    for title in headings(API_DOC):
        match = _NUMBERED.match(title)
        if match:
            numbers.add(int(match["number"]))
    return frozenset(numbers)


def citation_problems(text: str, *, starting_before: int | None = None) -> list[str]:
    """What is wrong with the doc citations in ``text`` (empty when every cited section exists).

    ``starting_before`` limits the check to citations that start before that offset (a line joined with
    the next one, so that a section name wrapped onto the next line is read whole, but checked once).
    """
    limit = len(text) if starting_before is None else starting_before
    problems = []
    for match in CITATION.finditer(text):
        if match.start() >= limit:
            continue
        doc = match[1]
        rest = _MARKERS.sub("", match["rest"])  # a string or comment may close and go on after the comma
        question = OPEN_QUESTION.match(rest)
        if question:
            continue  # checked below with every other "open question N"
        if not any(rest.lower().startswith(title.lower()) for title in headings(doc)):
            problems.append(f"{doc} has no section that {rest[:60]!r} starts with")
    for question in OPEN_QUESTION.finditer(text):
        if question.start() < limit and int(question["number"]) not in open_questions():
            problems.append(f"{API_DOC} has no open question {question['number']}")
    return problems
