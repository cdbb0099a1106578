"""The ontology as an OWL model (owlready2), and its consistency as a reasoner sees it.

owlready2 is the optional ``[ontology]`` extra: it is imported only here, only
when asked, and its absence is one clear ``InputError``. Its reasoners
(HermiT, Pellet) run on Java; ``check_consistency`` is for the command line
and tests, never for a request path: it starts a JVM and takes seconds.

The file declares the RDF, RDFS and OWL built-ins it uses (``rdf:type``,
``rdfs:label``...) so that every term of the data has a declaration, a label
and a definition for readers. OWL tools know these built-ins already and
owlready2 refuses to redeclare some of them (``rdf:type`` as an
``rdf:Property`` fails), so the model is loaded without those declarations;
nothing else is left out.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode, RdfFormat, Triple, serialize

from ontology.errors import InputError
from ontology.namespaces import OWL, RDF, RDFS, XSD
from ontology.vocabulary import ontology_triples

_BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))


@dataclass(frozen=True, slots=True)
class Consistency:
    """What the reasoner found: whether the ontology is consistent, and unsatisfiable classes."""

    consistent: bool
    reasoner: str
    unsatisfiable: tuple[str, ...] = ()
    message: str = ""


def owl_triples() -> list[Triple]:
    """The ontology's statements as OWL tools take them: built-ins not redeclared.

    >>> from ontology.namespaces import RDF
    >>> any(t.subject == RDF.type and t.predicate == RDF.type for t in owl_triples())
    False
    """
    return [
        t
        for t in ontology_triples()
        if not (
            t.predicate == RDF.type
            and isinstance(t.subject, NamedNode)
            and t.subject.value.startswith(_BUILT_IN)
        )
    ]


def _owlready2() -> Any:
    try:
        import owlready2
    except ImportError as exc:
        raise InputError(
            "owlready2 is not installed: it is the optional [ontology] extra "
            "(pip install 'catalograph[ontology]')"
        ) from exc
    return owlready2


def load_owl_model(folder: Path, extra: Iterable[Triple] = ()) -> tuple[Any, Any]:
    """A fresh owlready2 ``World`` holding the ontology (and ``extra``), and the ontology in it.

    ``folder`` receives the N-Triples file owlready2 reads (it loads from a
    file or URL, not from memory).
    """
    owlready2 = _owlready2()
    path = folder / "catalograph.nt"
    path.write_bytes(serialize([*owl_triples(), *extra], format=RdfFormat.N_TRIPLES) or b"")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load(format="ntriples")
    return world, ontology


def java_path() -> str | None:
    """Where ``java`` is, if it is: the reasoners need it."""
    return shutil.which("java")


def check_consistency(extra: Iterable[Triple] = ()) -> Consistency:
    """Run HermiT over the ontology (and ``extra`` statements): is it consistent, are its classes satisfiable?

    Raises ``InputError`` when owlready2 or Java is missing. Seconds of work
    in a JVM: never call it while serving a request. (owlready2's Pellet is
    not offered: its bundled Jena clashes with the Java found here.)
    """
    owlready2 = _owlready2()
    if java_path() is None:
        raise InputError("the OWL reasoner (HermiT) needs Java, and no 'java' is on the PATH")
    reasoner = "hermit"
    with tempfile.TemporaryDirectory(prefix="catalograph-owl-") as folder:
        world, _ontology = load_owl_model(Path(folder), extra)
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return Consistency(False, reasoner, message=str(exc).strip()[:2000])
        except owlready2.OwlReadyJavaError as exc:
            raise InputError(f"the {reasoner} reasoner failed: {str(exc).strip()[:500]}") from exc
        unsatisfiable = tuple(
            sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        )
    return Consistency(not unsatisfiable, reasoner, unsatisfiable)
