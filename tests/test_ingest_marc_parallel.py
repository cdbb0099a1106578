"""880 fields -> parallel literals with BCP 47 language + script tags (ingest/marc/parallel.py).

Real records with Hebrew, Japanese, Chinese, Arabic, Persian and Cyrillic
880s (traject's and marc2bibframe2's test records, tests/data; one Open
Library record read in place from ../shared/data). pyoxigraph keeps language
tags in lower case ("he-hebr"), so that is what is compared.
"""

from __future__ import annotations

from test_ingest_marc_mapping import ask, column, select, store_of, work_iri

from tests.conftest import shared_path, test_path

HEBREW = test_path("marc/traject/hebrew880s.marc")
JAPANESE = test_path("marcxml/marc2bibframe2/880/650a-651a.xml")
CHINESE = test_path("marcxml/marc2bibframe2/880/100-600-700-700t.xml")
NO_6 = test_path("marc/traject/880_with_no_6.utf8.marc")
SUBFIELD6 = test_path("marcxml/marc2bibframe2/880/marc-subfield6-processing.xml")
#: The title proper (245), not a variant title (246).
PROPER = "FILTER NOT EXISTS { ?t a bf:VariantTitle }"


def tagged(store, query: str) -> set[tuple[str, str]]:
    """(text, language tag) of ``?x`` in ``query``."""
    return {(text, lang) for text, lang in select(store, f"SELECT ?x (LANG(?x) AS ?l) WHERE {{ {query} }}")}


def test_hebrew_title_name_and_imprint_are_parallel_on_the_same_nodes() -> None:
    store = store_of(HEBREW)  # 008/35-37 heb; 880s with $6 .../(2/r
    assert tagged(store, f"?i a bf:Instance ; bf:title ?t . ?t bf:mainTitle ?x {PROPER}") == {
        ("אנרכיזם ב״ציון״", "he-hebr"), ('Anarkhizm be-"Tsiyon"', "he-latn")}
    # the name heading keeps its plain romanised label (the authority's form) beside the Hebrew one
    assert tagged(store, '?c a bf:PrimaryContribution ; bf:agent ?a . ?a rdfs:label ?x') == {
        ("רצבי, שלום", "he-hebr"), ("Ratsabi, Shalom", "")}
    # 260 $a [Tel Aviv] / 880 $a [תל אביב]: one Place node, two labels
    assert tagged(store, "?p a bf:Publication ; bf:place ?pl . ?pl rdfs:label ?x") == {
        ("[תל אביב]", "he-hebr"), ("[Tel Aviv]", "he-latn")}


def test_japanese_880s_are_tagged_ja_jpan() -> None:
    store = store_of(JAPANESE)  # 008 jpn; $6 .../$1 (CJK): Jpan for Japanese
    assert tagged(store, f"?i a bf:Instance ; bf:title ?t . ?t bf:mainTitle ?x {PROPER}") == {
        ("中尊寺領骨寺村絵図を読む", "ja-jpan"), ("Chūsonjiryō Honederamura ezu o yomu", "ja-latn")}
    assert tagged(store, "?p a bf:Publication ; bf:place/rdfs:label ?x") == {
        ("東京", "ja-jpan"), ("Tōkyō", "ja-latn")}
    assert tagged(store, "?c a bf:PrimaryContribution ; bf:agent/rdfs:label ?x") == {
        ("入間田宣夫, 1942-", "ja-jpan"), ("Irumada, Nobuo, 1942-", "")}
    # 651 0 $6 880-34 $a Ichinoseki-shi (Japan) / 880 $a 一関市 (Japan): one place, two labels
    assert ask(store, """ASK { ?w bf:subject ?p . ?p a bf:Place ;
        rdfs:label "Ichinoseki-shi (Japan)", "一関市 (Japan)"@ja-Jpan }""")


def test_chinese_edition_series_and_name_title_works() -> None:
    store = store_of(CHINESE)  # 008 chi; 066 $c $1
    assert tagged(store, "?i bf:editionStatement ?x") == {("第1版", "zh-hani"), ("Di 1 ban", "zh-latn")}
    assert tagged(store, "?i bf:seriesStatement ?x") == {
        ("中国思想家评传丛书", "zh-hani"), ("Zhongguo si xiang jia ping zhuan cong shu", "zh-latn")}
    # 700 12 $6 880-12 $a Zhou, Hanguang, $d 1950- $t Li Ye ping zhuan. / 880 ... $t 李冶评传.
    li_ye = work_iri("zhou hanguang|li ye ping zhuan")
    assert tagged(store, f"<{li_ye}> rdfs:label ?x") == {("李冶评传", "zh-hani"), ("Li Ye ping zhuan", "")}


def test_arabic_880s_are_tagged_ar_arab() -> None:
    # test_data.utf8 record 19: 008 ara; 245 13 $6 880-02 $a al-Ḥarb fī al-alfīyah al-thālithah
    store = store_of(test_path("marc/traject/test_data.utf8.mrc"), 18)
    assert tagged(store, f"?i a bf:Instance ; bf:title ?t . ?t bf:mainTitle ?x {PROPER}") == {
        ("الحرب في الألفية الثالثة", "ar-arab"), ("al-Ḥarb fī al-alfīyah al-thālithah", "ar-latn")}
    # the non-filing "al-" is left out of the work key
    assert column(store, "SELECT ?k WHERE { ?l cg:matchKey ?k }") == {
        "wuld mawlay al zayn sayyid muhammad wuld sayyid|harb fi al alfiyah al thalithah"}


def test_persian_directional_marks_are_dropped() -> None:
    store = store_of(test_path("marcxml/marc2bibframe2/880/100-600-600complex-700.xml"))
    # 880 1  $6 100-01/(3/r‏ $a ‏پيروزان، هادى. (with U+200F marks around the text)
    labels = tagged(store, "?c a bf:PrimaryContribution ; bf:agent/rdfs:label ?x")
    assert ("پيروزان، هادى", "fa-arab") in labels
    assert not ask(store, 'ASK { ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "\u200f")) }')


def test_russian_880s_and_an_880_without_6_kept_as_a_note() -> None:
    store = store_of(NO_6)  # 008 rus; 880s $6 .../(N; the 110's 880 has $7 instead of $6
    assert tagged(store, f"?i a bf:Instance ; bf:title ?t . ?t bf:mainTitle ?x {PROPER}") == {
        ("Личные архивные фонды в государственных хранилищах СССР", "ru-cyrl"),
        ("Lichnye arkhivnye fondy v gosudarstvennykh khranilishchakh SSSR", "ru-latn")}
    assert ("Колосова, Э. В.", "ru-cyrl") in tagged(store, '?a rdfs:label "Kolosova, E. V." ; rdfs:label ?x')
    assert tagged(store, '?i bf:note ?n . ?n bf:noteType "unlinked 880" ; rdfs:label ?x') == {
        ("Soviet Union. Главное архивное управление", "ru-cyrl")}


def test_unlinked_880_is_mapped_as_the_field_it_names() -> None:
    # 880 1  $6 700-00/$1 $a 许思豪, $d 1955- $e editor.  (no partner: occurrence 00)
    store = store_of(SUBFIELD6)
    assert select(store, """SELECT ?r WHERE { ?w bf:contribution ?c . ?c bf:agent ?a ; bf:role ?r .
        ?a rdfs:label "许思豪, 1955-"@zh-Hani }""") == [("http://id.loc.gov/vocabulary/relators/edt",)]
    # a Cyrillic 880 in a Chinese record: the language is not Chinese, only the script is known
    assert ("Из работ семьи Chase", "und-cyrl") in tagged(store, "?i bf:note/rdfs:label ?x")


def test_unlinked_publisher_880_with_script_read_from_the_text() -> None:
    # Open Library: 880 $6 260-00 (unlinked); 880 $6 245-01 without a script code
    store = store_of(shared_path("marc/openlibrary/880_publisher_unlinked.mrc"))
    assert tagged(store, "?p a bf:Publication ; bf:place/rdfs:label ?x") == {("אור יהודה", "he-hebr")}
    assert tagged(store, "?p a bf:Publication ; bf:agent/rdfs:label ?x") == {("כנרת", "he-hebr")}
    assert ("זה גדול!", "he-hebr") in tagged(store, "?i a bf:Instance ; bf:title/bf:mainTitle ?x")
