"""The API page: type aliases that link, constants that read well.

Type aliases (``companion._typing.Array``) are module data, and Sphinx looks
up the types in a signature as classes only, so they would never link (and
fail the ``-n`` build); here a class reference falls back to data or a type
alias of the same full name.

autodoc prints every module-level constant with its ``repr``; for a table of
functions that is ``{'L1': (<function l1_loss_grad>, {}), ...}``, hundreds of
characters that say less than the docstring. Values whose ``repr`` holds an
object without a literal form (``<...>``) or is longer than
:data:`MAX_VALUE_LENGTH` characters are left out, as ``:no-value:`` would;
short ones (``GRAVITY = 9.81``, ``REDUCTIONS = ('none', 'mean', 'sum')``)
stay.

A function's name does not wrap by itself, and
``binary_cross_entropy_with_logits_reference`` is wider than a phone's
screen: each name in a signature gets a break opportunity (``<wbr>``) after
every underscore that joins two words, and a narrow screen wraps it there.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.addnodes import desc_name, pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext.autodoc import DataDocumenter
from sphinx.util.inspect import object_description
from sphinx.util.nodes import make_refnode

MAX_VALUE_LENGTH = 72
# After an underscore between two letters or digits (not in ``_private``).
NAME_BREAK = re.compile(r"(?<=[A-Za-z0-9]_)(?=[A-Za-z0-9])")


class ReadableDataDocumenter(DataDocumenter):
    """autodoc's module-data documenter, without unreadable values."""

    def should_suppress_value_header(self) -> bool:
        if super().should_suppress_value_header():
            return True
        try:
            text = object_description(self.object)
        except ValueError:
            return True
        return "<" in text or len(text) > MAX_VALUE_LENGTH


def _alias_as_class(
    app: Sphinx,
    env: BuildEnvironment,
    node: pending_xref,
    contnode: nodes.TextElement,
) -> nodes.reference | None:
    """Resolve a ``py:class`` reference to data or a type alias."""
    if node.get("refdomain") != "py" or node.get("reftype") != "class":
        return None
    target = node["reftarget"]
    found = env.get_domain("py").objects.get(target)  # type: ignore[attr-defined]
    if found is None or found.objtype not in ("data", "type"):
        return None
    return make_refnode(
        app.builder, node["refdoc"], found.docname, found.node_id, contnode
    )


def _break_names_after_underscores(
    app: Sphinx, doctree: nodes.document, docname: str
) -> None:
    """A ``<wbr>`` after each underscore between two words of a name."""
    for name in doctree.findall(desc_name):
        for text in list(name.findall(nodes.Text)):
            parts = NAME_BREAK.split(str(text))
            if len(parts) == 1:
                continue
            pieces: list[nodes.Node] = [nodes.Text(parts[0])]
            for part in parts[1:]:
                pieces += [
                    nodes.raw("", "<wbr>", format="html"),
                    nodes.Text(part),
                ]
            text.parent.replace(text, pieces)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.autodoc")
    app.add_autodocumenter(ReadableDataDocumenter, override=True)
    app.connect("missing-reference", _alias_as_class)
    app.connect("doctree-resolved", _break_names_after_underscores)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
