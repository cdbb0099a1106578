"""Vocabulary terms for the bibliographic mapper, as plain attributes.

``ontology.namespaces.Namespace`` resolves every ``BF.title`` through
``__getattr__`` and a cache; the mapper states about a hundred terms per
record at thousands of records a second, so these wrappers keep each term as
an ordinary attribute after its first use: one dictionary lookup per use.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from ontology import namespaces


class Terms:
    """A namespace whose terms become instance attributes once looked up."""

    def __init__(self, namespace: namespaces.Namespace) -> None:
        self._namespace = namespace

    def __getattr__(self, local: str) -> NamedNode:
        if local.startswith("__"):
            raise AttributeError(local)
        term = getattr(self._namespace, local)
        setattr(self, local, term)
        return term


BF = Terms(namespaces.BF)
CG = Terms(namespaces.CG)
MADS = Terms(namespaces.MADS)
RDF = Terms(namespaces.RDF)
RDFS = Terms(namespaces.RDFS)
SKOS = Terms(namespaces.SKOS)
XSD = Terms(namespaces.XSD)
