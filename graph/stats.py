"""Counts of what a store holds, for ``catalograph stats``, VoID and the home page.

Computed from index scans, not SPARQL (all SPARQL text lives in ``query/``,
which ``graph`` may not import). A class is counted in distinct subjects in
constant memory: Oxigraph answers ``(?, rdf:type, C, ?)`` from its POSG index,
so the quads of one subject come out adjacent (tests check this), and a
subject typed in many record graphs (a shared Work) counts once. A group
(agents = persons, organisations, families...) counts a subject once however
many of its classes it has.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Store

from ontology.namespaces import BF, CG, MADS, RDF, SKOS, compact

#: The groups a catalogue is summarised by; each group's classes in the order counted.
GROUPS: dict[str, tuple[NamedNode, ...]] = {
    "instances": (BF.Instance, BF.Print, BF.Manuscript, BF.Electronic, BF.Tactile, BF.Archival),
    "works": (
        BF.Work, BF.Text, BF.NotatedMusic, BF.NotatedMovement, BF.Audio, BF.MusicAudio,
        BF.NonMusicAudio, BF.MovingImage, BF.StillImage, BF.Cartography, BF.Multimedia,
        BF.MixedMaterial, BF.Object, BF.Dataset,
    ),
    "agents": (BF.Agent, BF.Person, BF.Organization, BF.Family, BF.Meeting, BF.Jurisdiction),
    "concepts": (SKOS.Concept, BF.Topic, MADS.Topic, MADS.ComplexSubject),
    "places": (BF.Place, MADS.Geographic),
}


def distinct_subjects(store: Store, cls: NamedNode, also_not: tuple[NamedNode, ...] = ()) -> int:
    """Distinct subjects typed ``cls`` and none of ``also_not`` (counted already)."""
    count = 0
    previous = None
    for quad in store.quads_for_pattern(None, RDF.type, cls, None):
        subject = quad.subject
        if subject == previous:
            continue
        previous = subject
        if not any(_has_type(store, subject, other) for other in also_not):
            count += 1
    return count


def _has_type(store: Store, subject: object, cls: NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(subject, RDF.type, cls, None)), None) is not None


def stats(store: Store) -> dict[str, object]:
    """Quads, named graphs, record graphs, and distinct resources per group and per class.

    ``classes`` maps each class met (compact name) to its distinct subjects;
    group totals count a subject with several classes of the group once.
    """
    result: dict[str, object] = {
        "quads": len(store),
        "named_graphs": sum(1 for _ in store.named_graphs()),
        "record_graphs": distinct_subjects(store, CG.RecordGraph),
    }
    classes: dict[str, int] = {}
    for group, members in GROUPS.items():
        total = 0
        for i, cls in enumerate(members):
            per_class = distinct_subjects(store, cls)
            if per_class:
                classes[compact(cls.value)] = per_class
                total += per_class if i == 0 else distinct_subjects(store, cls, members[:i])
        result[group] = total
    result["classes"] = classes
    return result
