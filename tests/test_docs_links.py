"""README.md, docs/*.md and deploy/README.md: every relative link and image resolves.

A link's file must exist (relative to the Markdown file that holds it), and a `#fragment` must
name a heading of the target as GitHub renders it (lower case, punctuation dropped, spaces to
hyphens, `-1`, `-2` for repeats). Links inside code blocks and code spans are not links.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", REPO / "deploy" / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = _slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def links(path: Path) -> list[str]:
    found = []
    for line in _prose(path.read_text(encoding="utf-8")):
        found += LINK.findall(CODE_SPAN.sub("", line))
    return [t for t in found if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]  # http:, mailto: ...


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(doc: Path) -> None:
    assert doc.is_file(), doc
    broken = []
    for target in links(doc):
        file_part, _, fragment = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.relative_to(REPO)}")
    assert not broken, f"{doc.relative_to(REPO)}: " + "; ".join(broken)


def test_readme_is_short_and_links_each_doc() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    targets = {t.partition("#")[0] for t in links(REPO / "README.md")}
    for doc in (REPO / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in targets, f"README does not link docs/{doc.name}"
    assert "deploy/README.md" in targets


def test_the_slug_rules() -> None:
    assert _slug("The arm64 check (`make pi`; not yet part of `make test`)") == (
        "the-arm64-check-make-pi-not-yet-part-of-make-test"
    )
    assert _slug("Results (real speech: RAVDESS → SAVEE, URDU, EMOVO; measured here)") == (
        "results-real-speech-ravdess--savee-urdu-emovo-measured-here"
    )
    assert _slug("A clinic's fleet: events over TLS into a database") == (
        "a-clinics-fleet-events-over-tls-into-a-database"
    )
