"""What is refused before parsing: the lexer, nesting, SERVICE and its allow-list.

The SERVICE cases were checked against pyoxigraph 0.5.13 itself (with a
listener on the loopback interface): it needs no space around keywords, so
``?o.SERVICE<...>`` and ``trueSERVICE <...>`` do call the endpoint, while
``ex:a.SERVICE`` is one prefixed name.
"""

from __future__ import annotations

import contextlib
import doctest
import time

import pytest

from ontology.errors import QueryError
from query import guard
from query.guard import MAX_NESTING, ServiceRefusedError, check_query, service_targets, tokens

ALLOWED = "http://127.0.0.1:8890/sparql"


def targets(text: str) -> list[str | None]:
    return service_targets(list(tokens(text)), {"ex": "http://example.org/"})


def test_doctests_run() -> None:
    assert doctest.testmod(guard).failed == 0


def test_tokens_give_the_text_back() -> None:
    text = 'PREFIX ex: <http://e/#x> SELECT ?s_1 $o WHERE { ?s ex:a\\\'b \'it\'\'s\' ; ex:n 1.5e3 , """x\ny"""@en-GB } # c'
    found = list(tokens(text))
    assert "".join(value for _, value in found) == text
    kinds = [kind for kind, _ in found if kind != "ws"]
    assert kinds[:4] == ["word", "pname", "iri", "word"]
    assert ("pname", "ex:a\\'b") in found  # an escaped quote inside a name opens no string
    assert ("langtag", "@en-GB") in found and ("comment", "# c") in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}", [ALLOWED]),
        (f"SELECT * {{ SERVICE SILENT <{ALLOWED}> {{}} }}", [ALLOWED]),
        (f"SELECT * {{ ?s ?p ?o.SERVICE<{ALLOWED}>{{}} }}", [ALLOWED]),
        (f"SELECT * {{ ?s ?p trueSERVICE <{ALLOWED}> {{}} }}", [ALLOWED]),
        (f"SELECT * {{ ?s ?p 1SERVICE <{ALLOWED}> {{}} }}", [ALLOWED]),
        (f"SELECT * {{ ?s ?p ex:.SERVICE <{ALLOWED}> {{}} }}", [ALLOWED]),  # 'ex:' '.' SERVICE
        (f"SELECT * {{ servicesilent <{ALLOWED}> {{}} }}", [ALLOWED]),
        (f"SELECT * {{ SERVICE <{ALLOWED[:-6]}\\u0073parql> {{}} }}", [ALLOWED]),
        ("PREFIX e: <http://127.0.0.1:8890/> SELECT * { SERVICE e:sparql {} }", [ALLOWED]),
        ("SELECT * { SERVICE ex:sparql {} }", ["http://example.org/sparql"]),
        ("SELECT * { SERVICE ?endpoint {} }", [None]),
        ("BASE <http://127.0.0.1:8890/> SELECT * { SERVICE <sparql> {} }", [None]),
        ("SELECT * { SERVICE nope:x {} }", [None]),
        ("SELECT * { SERVICEX <http://a/> {} }", [None]),
        # Not SERVICE: inside names, strings, IRIs, comments.
        ("SELECT ?service WHERE { ?service ex:service ex:a.SERVICE }", []),
        ("SELECT * { ?s ?p 'SERVICE <http://a/>' . ?s ?q <http://a/SERVICE> } # SERVICE <x>", []),
        ("SELECT * { ?s ?p _:service . service:x ?p ?o }", []),
    ],
)
def test_service_targets(text: str, expected: list[str | None]) -> None:
    assert targets(text) == expected


def test_service_is_refused_unless_allowed() -> None:
    query = f"SELECT * {{ ?s ?p ?o.SERVICE<{ALLOWED}>{{}} }}"
    with pytest.raises(ServiceRefusedError, match="SERVICE .* disabled") as caught:
        check_query(query, 100_000)
    assert caught.value.http_status == 400
    check_query(query, 100_000, service_allow=["http://127.0.0.1:8890/"])
    with pytest.raises(ServiceRefusedError, match="SERVICE <http://127.0.0.1:8891/sparql>"):
        check_query(
            query.replace("8890", "8891"), 100_000, service_allow=["http://127.0.0.1:8890/"]
        )
    with pytest.raises(ServiceRefusedError, match="a variable or relative IRI"):
        check_query("SELECT * { SERVICE ?e {} }", 100_000, service_allow=["http://127.0.0.1:8890/"])


@pytest.mark.parametrize("opener", ["{", "(", "["])
def test_nesting_of_every_bracket_counts(opener: str) -> None:
    closer = {"{": "}", "(": ")", "[": "]"}[opener]
    deep = "SELECT * WHERE { " + opener * 3000 + closer * 3000 + " }"
    with pytest.raises(QueryError, match="nests 3001 levels deep; the limit is 200"):
        check_query(deep, 100_000)
    shallow = "SELECT * WHERE { " + opener * (MAX_NESTING - 1) + closer * (MAX_NESTING - 1) + " }"
    check_query(shallow, 100_000)  # refused by the parser perhaps, but not here


def test_escapes_and_strings_do_not_open_brackets() -> None:
    check_query("SELECT * WHERE { ?s ?p '" + "\\u007B" * 3000 + "' }", 100_000)
    check_query("SELECT * WHERE { ?s ?p <http://x/" + "\\u007B" * 3000 + "> }", 100_000)
    check_query("SELECT * WHERE { ?s ?p '''" + "{" * 3000 + "''' }", 100_000)


@pytest.mark.parametrize(
    "hostile",
    [
        "a." * 50_000,
        "a" * 100_000,
        "a:" * 50_000,
        "_:a." * 25_000,
        "?a." * 33_000,
        '"""\\"' * 20_000 + "<a" * 20_000,
        "'" * 100_000,
        "\\u0041" * 16_000,
        "a.:" * 33_000,
        "<" * 100_000,
    ],
)
def test_the_lexer_is_linear_on_hostile_text(hostile: str) -> None:
    """Hostile text costs no more than an ordinary query of the same length, give or take.

    A ratio of CPU time measured in the same process, not a time limit:
    backtracking or quadratic scanning on these 100,000 characters would cost
    hundreds of times the ordinary query's time; linear scanning costs 0.01-2.2
    times it (measured). Each text is timed three times and the fastest kept.
    (A ratio between two sizes of one text was tried first: the cost per
    character steps up several times once a text no longer fits the CPU's
    caches, which a ratio across that step takes for a blow-up.)
    """

    def cpu(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            fresh = (text + " ")[:-1]  # a new object each time: nothing cached on the string itself
            started = time.process_time()
            with contextlib.suppress(QueryError):
                check_query(fresh, 1_000_000)
            best = min(best, time.process_time() - started)
        return best

    ordinary = "SELECT ?s WHERE { ?s <http://x/p> 'a b' . FILTER(?s != 1) } "
    ordinary = (ordinary * (len(hostile) // len(ordinary) + 1))[: len(hostile)]
    hostile_cost, ordinary_cost = cpu(hostile), cpu(ordinary)
    assert hostile_cost < 10 * ordinary_cost, (hostile_cost, ordinary_cost)
