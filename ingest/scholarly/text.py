"""Plain text out of the markup abstracts and titles carry (JATS, HTML, MathML).

Crossref gives abstracts as JATS markup in a JSON string
(``<jats:p>...</jats:p>``), JATS and PubMed as XML elements with
``<italic>``, ``<sub>``, ``<xref>`` inside. A catalogue shows and indexes
text, so the markup goes: tags are dropped by one linear pattern (no parser,
so no entity expansion and no recursion on hostile input), block elements
become a space so paragraphs do not run together, character references are
decoded once, and runs of white space collapse. Text longer than
``MAX_TEXT`` characters is cut there (an abstract is a few kilobytes).
"""

from __future__ import annotations

import html
import re
from xml.etree.ElementTree import Element

#: The most characters kept of one abstract, title or note.
MAX_TEXT = 64 * 1024

_BLOCK = re.compile(
    r"</?(?:[\w.-]+:)?(?:p|para|title|sec|list|list-item|br|div|li|ul|ol|h\d|label|caption|"
    r"AbstractText|def-item|table|tr|td)\b[^<>]{0,1000}>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^<>]{0,1000}>")
_SPACE = re.compile(r"\s+")
#: Elements whose text is not part of the reading text (JATS figure and formula sources).
_SKIPPED = frozenset({"xref-group", "fn", "object-id", "graphic", "alternatives", "tex-math"})
_BLOCK_ELEMENTS = frozenset({"p", "title", "sec", "list-item", "label", "caption", "AbstractText"})


def strip_markup(value: str | None) -> str:
    """``value`` without tags, entities decoded, spaces collapsed.

    >>> strip_markup("<jats:p>Cells <jats:italic>in vivo</jats:italic> &amp; p &lt; 0.05</jats:p>")
    'Cells in vivo & p < 0.05'
    >>> strip_markup("<jats:title>Abstract</jats:title><jats:p>One.</jats:p><jats:p>Two.</jats:p>")
    'Abstract One. Two.'
    """
    if not value:
        return ""
    text = value[:MAX_TEXT] if len(value) > MAX_TEXT else value
    text = _BLOCK.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def element_text(element: Element | None) -> str:
    """The reading text of an XML element: its text and its children's, blocks spaced.

    >>> from xml.etree.ElementTree import fromstring
    >>> element_text(fromstring("<abstract><p>A <italic>b</italic>c.</p><p>D.</p></abstract>"))
    'A bc. D.'
    """
    if element is None:
        return ""
    parts: list[str] = []
    size = 0
    stack: list[tuple[Element, bool]] = [(element, False)]
    while stack and size < MAX_TEXT:
        node, closing = stack.pop()
        if closing:
            if node.tag in _BLOCK_ELEMENTS:
                parts.append(" ")
            if node.tail and node is not element:
                parts.append(node.tail)
                size += len(node.tail)
            continue
        if node.tag in _SKIPPED:
            if node is not element and node.tail:
                parts.append(node.tail)
            continue
        if node.tag in _BLOCK_ELEMENTS:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
            size += len(node.text)
        stack.append((node, True))
        for child in reversed(node):
            stack.append((child, False))
    text = "".join(parts)[:MAX_TEXT]
    return _SPACE.sub(" ", text).strip()
