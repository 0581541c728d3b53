"""The repository stands alone: nothing in it reads, links or cites anything outside the checkout.

Why: a user clones the repository from a code host; there is no folder of reference notes beside it and no
machine of ours behind it. A test that opens a file outside the checkout fails for them, and a comment that
cites a document they cannot read explains nothing. The facts we rely on are written up in ``docs/`` and cited
from there (``docs/vonage-reports-api.md``, ``docs/airflow-notes.md``, ``docs/postgres-notes.md``), and
Vonage's OpenAPI files are vendored in ``docs/reference/openapi/``.

Every pattern below is assembled from pieces so that this file does not match itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.citations import citation_problems, headings

ROOT = Path(__file__).resolve().parent.parent

#: references to material outside the repository, by what they are
OUTSIDE_REFERENCES: dict[str, re.Pattern[str]] = {
    "the reference folder beside the repository": re.compile(re.escape("." * 2 + "/" + "shared")),
    "the shared reference or seed folder": re.compile("shared" + r"/(?:reference|seeds)\b"),
    "an environment override pointing outside the repository": re.compile("CDR_" + "SHARED_DIR"),
    "a section of the external API notes (cite docs/vonage-reports-api.md instead)": re.compile(
        r"\bcontract\s*(?:\u00a7|sections?\s+\d)", re.IGNORECASE
    ),
    "a seed document (cite docs/vonage-reports-api.md instead)": re.compile(
        r"\bseed\s+00\d\b", re.IGNORECASE
    ),
    "an external note by its file name (cite docs/ instead)": re.compile(
        "|".join(
            re.escape(name)
            for name in ("reports-api-" + "contract", "airflow3" + "-notes", "postgres-and-load" + "-facts")
        )
        + "|"
        + re.escape("style" + "-examples")
    ),
}

#: absolute paths of somebody's machine (home folders, scratch and work areas); standard system paths such
#: as /usr/lib/postgresql, /etc or /opt/airflow (inside the container image) are fine
MACHINE_PATH = re.compile(r"(?<![\w.~$/-])/(?:" + "|".join(("work", "root", "home", "Users", "tmp")) + r")/")

#: released migrations are immutable (applied ones are verified by checksum), so their text cannot be
#: corrected; exactly these bytes are exempt, any edit of them is caught here and by the migration runner
RELEASED_MIGRATIONS = {
    "include/vonage_cdr/warehouse/migrations/0002_operations.sql": (
        "4a4f46696ad467fa375c35f4489613bd3887348076b97e40ea2899b8c95c9383"
    ),
    "include/vonage_cdr/warehouse/migrations/0005_analytics_views.sql": (
        "50f03c3c84a5e5f623bceb67cde071775ba43bac08a7a8e61347de1a4603071d"
    ),
}

_SKIP_DIRS = {".git", ".venv", ".state", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}


def _tracked_files() -> list[str]:
    """Files under version control (``git ls-files``); without git, every file outside tool folders."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
        files = [f for f in out.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.SubprocessError):
        pass
    found = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        found += [str((Path(folder) / n).relative_to(ROOT)) for n in names]
    return sorted(found)


@cache
def _text_files() -> tuple[tuple[str, str, bytes], ...]:
    """(path, text, raw bytes) of every tracked text file; binary and vanished files are skipped."""
    files = []
    for name in _tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue
        try:
            files.append((name, raw.decode("utf-8"), raw))
        except UnicodeDecodeError:
            continue
    return tuple(files)


def _lines() -> Iterator[tuple[str, int, str]]:
    for name, text, raw in _text_files():
        if RELEASED_MIGRATIONS.get(name) == hashlib.sha256(raw).hexdigest():
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            yield name, number, line


def _report(offences: list[str], what: str) -> str:
    return f"{len(offences)} {what}:\n" + "\n".join(offences)


def test_no_tracked_file_reads_or_cites_material_outside_the_repository() -> None:
    offences = [
        f"{name}:{number}: {reason}: {line.strip()[:160]}"
        for name, number, line in _lines()
        for reason, pattern in OUTSIDE_REFERENCES.items()
        if pattern.search(line)
    ]
    assert not offences, _report(offences, "references to material outside the repository")


def test_no_tracked_file_holds_an_absolute_path_of_a_machine() -> None:
    offences = [
        f"{name}:{number}: absolute machine path: {line.strip()[:160]}"
        for name, number, line in _lines()
        if MACHINE_PATH.search(line)
    ]
    assert not offences, _report(offences, "absolute machine paths (use paths relative to the repository)")


def _continuation(line: str) -> str:
    """A following line without its comment or string markers, to read a wrapped section name."""
    return line.strip().lstrip("#:*/->\"'`|").strip()


def test_every_cited_section_of_our_docs_exists() -> None:
    offences = []
    for name, text, _raw in _text_files():
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if "docs/" not in line and "open question" not in line.lower():
                continue
            following = _continuation(lines[index + 1]) if index + 1 < len(lines) else ""
            joined = f"{line} {following}"
            for problem in citation_problems(joined, starting_before=len(line)):
                offences.append(f"{name}:{index + 1}: {problem}")
    assert not offences, _report(offences, "citations of sections that do not exist")


def _slug(title: str) -> str:
    """The anchor a Markdown renderer (GitHub) gives a heading."""
    title = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return title.replace(" ", "-")


def test_links_in_markdown_files_land_on_files_and_headings_of_the_repository() -> None:
    link = re.compile(r"\]\((?P<target>[^)\s]+)\)")
    offences = []
    for name, text, _raw in _text_files():
        if not name.endswith(".md"):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in link.finditer(line):
                target = match["target"]
                if re.match(r"^[a-z]+:", target):
                    continue  # https:, mailto: ...
                file_part, _, anchor = target.partition("#")
                resolved = (ROOT / name).parent / file_part if file_part else ROOT / name
                try:
                    relative = resolved.resolve().relative_to(ROOT)
                except ValueError:
                    offences.append(f"{name}:{number}: link leaves the repository: {target}")
                    continue
                if not resolved.exists():
                    offences.append(f"{name}:{number}: link to a missing file: {target}")
                elif anchor and resolved.suffix == ".md":
                    slugs = {_slug(t) for t in headings(str(relative))}
                    if anchor not in slugs:
                        offences.append(f"{name}:{number}: link to a missing heading: {target}")
    assert not offences, _report(offences, "broken links")


def test_vendored_openapi_files_are_the_unmodified_copies_the_readme_lists() -> None:
    folder = ROOT / "docs" / "reference" / "openapi"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    listed = dict(
        re.findall(r"^\| `(?P<file>[\w.-]+\.yml)` \|.*\| `(?P<sha>[0-9a-f]{64})` \|$", readme, re.M)
    )
    present = {p.name for p in folder.glob("*.yml")}
    assert present and set(listed) == present, (sorted(listed), sorted(present))
    for file, sha in listed.items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == sha, (
            f"{file} differs from its source"
        )
    assert (folder / "LICENSE").is_file()
