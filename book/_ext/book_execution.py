"""The execution statistics page names chapters and states results in words.

myst-nb's ``{nb-exec-table}`` lists each notebook by its document name
(``book/03_l1_loss``) and its status as an emoji, which a browser without an
emoji font shows as an empty box and a screen reader reads as "check mark
button". After myst-nb has built the table, this names each chapter by its
title and writes the status as "ran" or "failed".
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

STATUS = {"✅": "ran", "❌": "failed"}


class ReadableExecutionTable(SphinxPostTransform):
    """Chapter titles and worded statuses in myst-nb's execution table."""

    # after myst-nb builds the table (8), before references resolve (10)
    default_priority = 9

    def run(self, **kwargs: Any) -> None:
        for table in self.document.findall(nodes.table):
            header = [entry.astext() for entry in table.findall(nodes.entry)]
            if header[:2] != ["Document", "Modified"]:
                continue
            for ref in table.findall(pending_xref):
                if ref.get("reftype") != "doc":
                    continue
                docname = ref.children[0].astext()
                if docname in self.env.titles:
                    title = self.env.titles[docname].astext()
                    ref.children[0].replace_self(nodes.inline(text=title))
            for text in list(table.findall(nodes.Text)):
                if str(text) in STATUS:
                    text.parent.replace(text, nodes.Text(STATUS[str(text)]))
            first = next(table.findall(nodes.entry))
            first.children[0].replace_self(nodes.paragraph(text="Chapter"))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(ReadableExecutionTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
