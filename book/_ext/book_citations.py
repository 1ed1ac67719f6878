"""One author-year citation style for the whole book, with links back.

sphinxcontrib-bibtex formats the text citations and the bibliography
separately: its ``author_year`` reference style writes "Huber (1964)" in the
text, while the bibliography keeps pybtex's alpha labels ("[Hub64]"). This
extension registers

- ``author_year_round``, the author-year reference style with round
  brackets: "Huber (1964)" for ``{cite:t}``, "(Huber, 1964)" for
  ``{cite:p}``;
- ``book_author_year``, a pybtex formatting style whose labels are the same
  author-year text ("Huber, 1964", "Goodfellow et al., 2016"), sorted by
  author, year and title;

and, under every entry of a bibliography, adds links back to each page that
cites it ("Cited in: ..."). Sphinx and docutils only link a citation back to
references on the bibliography's own page (sphinxcontrib-bibtex issues 194
and 389), so the book adds the links to the other pages itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from string import ascii_lowercase
from typing import Any

import pybtex.plugin
from docutils import nodes
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinxcontrib.bibtex.domain import get_docnames
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import (
    AuthorYearReferenceStyle,
)


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


@dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets, several separated by ';'."""

    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels as the text cites them: "Huber, 1964", "A and B, 2001".

    Three or more authors become "First et al."; an entry without author or
    editor is labelled by its title, one without a year by "n.d." (as
    sphinxcontrib-bibtex's author-year citations do). Equal labels get
    "a", "b", ... after the year.
    """

    def format_labels(self, sorted_entries: list[Any]) -> list[str]:
        labels = [self.format_label(entry) for entry in sorted_entries]
        repeats = Counter(labels)
        seen: Counter[str] = Counter()
        result = []
        for label in labels:
            if repeats[label] > 1:
                result.append(label + ascii_lowercase[seen[label]])
                seen[label] += 1
            else:
                result.append(label)
        return result

    def format_label(self, entry: Any) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor")
        if persons:
            last = [" ".join(p.prelast_names + p.last_names) for p in persons]
            if len(last) == 1:
                who = last[0]
            elif len(last) == 2:
                who = f"{last[0]} and {last[1]}"
            else:
                who = f"{last[0]} et al."
        else:
            who = entry.fields.get("title", entry.key)
        who = who.replace("{", "").replace("}", "")
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries, labelled and sorted by author and year."""

    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


def _cited_in(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Under each bibliography entry, link to the pages that cite it."""
    domain: Any = app.env.get_domain("cite")
    entries = {
        citation.citation_id: citation.key
        for citation in domain.citations
        if citation.bibliography_key.docname == docname
    }
    if not entries:
        return
    order = {name: i for i, name in enumerate(get_docnames(app.env))}
    for node in doctree.findall(nodes.citation):
        key = next((entries[i] for i in node["ids"] if i in entries), None)
        if key is None:
            continue
        first_ref: dict[str, str] = {}
        for ref in domain.citation_refs:
            if ref.docname == docname or ref.docname in first_ref:
                continue  # docutils links the own page's citations already
            if key in {target.key for target in ref.targets}:
                first_ref[ref.docname] = ref.citation_ref_id
        if not first_ref:
            continue
        para = nodes.paragraph(classes=["cited-in"])
        para += nodes.Text("Cited in: ")
        for i, page in enumerate(sorted(first_ref, key=order.get)):
            uri = app.builder.get_relative_uri(docname, page)
            title = app.env.titles[page].astext()
            if i:
                para += nodes.Text("; ")
            para += nodes.reference(
                "", title, internal=True, refuri=f"{uri}#{first_ref[page]}"
            )
        para += nodes.Text(".")
        node += para


def _bibliography_pages(
    app: Sphinx, env: BuildEnvironment, added: set, changed: set, removed: set
) -> list[str]:
    """Rewrite the bibliography pages whenever a page changed: its citations
    may have."""
    if not (added or changed or removed):
        return []
    domain: Any = env.get_domain("cite")
    return sorted({key.docname for key in domain.bibliographies})


def setup(app: Sphinx) -> dict[str, Any]:
    register_plugin(
        "sphinxcontrib.bibtex.style.referencing",
        "author_year_round",
        RoundAuthorYearStyle,
    )
    pybtex.plugin.register_plugin(
        "pybtex.style.formatting", "book_author_year", AuthorYearStyle
    )
    app.connect("doctree-resolved", _cited_in)
    app.connect("env-get-outdated", _bibliography_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
