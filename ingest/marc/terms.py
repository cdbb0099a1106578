"""Vocabulary terms for the bibliographic mapper.

The mapper's modules import their namespaces from here. They used to be
wrappers that kept each term as a plain attribute after its first use;
``ontology.namespaces.Namespace`` now does that itself, so these are the
namespaces themselves.
"""

from __future__ import annotations

from ontology.namespaces import BF, CG, MADS, RDF, RDFS, SKOS, XSD

__all__ = ["BF", "CG", "MADS", "RDF", "RDFS", "SKOS", "XSD"]
