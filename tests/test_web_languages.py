"""The interface in English and Chinese: chosen from Accept-Language, switched by the reader.

Through the real server (waitress over a real store built from the traject
records): the chrome of every page kind follows the reader's language, the
``lang`` switch persists in a cookie and never redirects off the site, and
literals from the data carry their own language tags. The catalogue checks
extract the messages from the code as ``pybabel extract`` does, so a string
added without its Chinese fails here, and the committed ``.mo`` must say
what its ``.po`` says. A real Chromium draws the Chinese home page with a CJK
font (a screenshot is left in the test's temporary folder).
"""

from __future__ import annotations

import gettext
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from browser_cdp import CHROMIUM, Chromium
from flask import Flask
from web_fixtures import build_data_dir, running_server, settings_for

from ontology.namespaces import BF, CG
from web import i18n

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "web" / "translations" / "zh" / "LC_MESSAGES"
INSTANCE_PATH = "/instance/lccn-2002036483"
HTML = {"Accept": "text/html"}
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-languages"))
    with running_server(settings_for(data_dir)) as root:
        yield root


def get(url: str, path: str, language: str | None = None, **kwargs) -> requests.Response:
    headers = {**HTML, **({"Accept-Language": language} if language else {})}
    return requests.get(url + path, headers=headers, timeout=60, **kwargs)


def html_lang(text: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', text)
    assert found, text[:300]
    return found[1]


# --- Choosing the language -------------------------------------------------------------


def test_english_by_default(url: str) -> None:
    home = get(url, "/")
    assert home.status_code == 200
    assert html_lang(home.text) == "en"
    assert "<caption>In this graph</caption>" in home.text
    assert '<th scope="row">Works</th>' in home.text
    assert "Accept-Language" in home.headers["Vary"] and "Cookie" in home.headers["Vary"]


@pytest.mark.parametrize("language", ["zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "zh", "en;q=0.5, zh"])
def test_accept_language_chinese_gives_the_chinese_interface(url: str, language: str) -> None:
    home = get(url, "/", language)
    assert html_lang(home.text) == "zh-Hans"
    assert "<caption>本图谱收录</caption>" in home.text
    for label in ("作品", "实例", "责任者", "概念", "地点"):
        assert f'<th scope="row">{label}</th>' in home.text
    assert "In this graph" not in home.text


@pytest.mark.parametrize("language", ["fr-FR", "xx", "de;q=1, *;q=0.1", "en-GB,zh;q=0.5"])
def test_other_languages_fall_back_to_english(url: str, language: str) -> None:
    home = get(url, "/", language)
    assert html_lang(home.text) == "en"
    assert "<caption>In this graph</caption>" in home.text


def test_every_kind_of_page_is_translated(url: str) -> None:
    resource = get(url, INSTANCE_PATH, "zh-CN")
    assert resource.status_code == 200 and html_lang(resource.text) == "zh-Hans"
    assert "<h2>描述</h2>" in resource.text and "<h2>数据</h2>" in resource.text
    assert "本页的 RDF 格式：" in resource.text
    sparql = get(url, "/sparql", "zh-CN")
    assert html_lang(sparql.text) == "zh-Hans"
    assert "<h1>SPARQL 查询</h1>" in sparql.text and "执行查询</button>" in sparql.text
    config = re.search(r'<script type="application/json" id="query-ui-config">(.*?)</script>', sparql.text)
    assert config, sparql.text[:2000]
    assert json.loads(config[1])["messages"]["downloadGraph"] == "下载图（N-Triples 格式）"
    missing = get(url, "/no/such/page", "zh-CN")
    assert missing.status_code == 404 and html_lang(missing.text) == "zh-Hans"
    assert "<h1>404 · 未找到</h1>" in missing.text
    # The server's own message stays English, and says so.
    assert re.search(r'<p class="message" lang="en">', missing.text)


def test_resource_pages_name_properties_and_types_in_the_interface_language(url: str) -> None:
    instance_of = '<th scope="row" title="http://id.loc.gov/ontologies/bibframe/instanceOf">'
    chinese = get(url, INSTANCE_PATH, "zh-CN").text
    assert instance_of + "所属作品" in chinese
    assert '<dt title="http://id.loc.gov/ontologies/bibframe/mainTitle">正题名</dt>' in chinese
    assert ">实例</span>" in chinese  # the type line: bf:Instance by its @zh label
    english = get(url, INSTANCE_PATH).text
    assert instance_of + "instance of" in english and ">Instance</span>" in english


def test_api_errors_stay_english(url: str) -> None:
    answer = requests.get(url + "/api/related", headers={"Accept-Language": "zh-CN"}, timeout=60)
    assert answer.status_code == 400
    assert answer.json()["title"] == "Bad request"


# --- The switch --------------------------------------------------------------------------


def test_every_page_links_to_the_other_language(url: str) -> None:
    for path in ("/", INSTANCE_PATH, "/sparql", "/no/such/page", INSTANCE_PATH + "?list=bf:identifiedBy"):
        page = get(url, path)
        links = re.findall(r'<a href="([^"]+)" lang="zh-Hans" hreflang="zh-Hans"', page.text)
        assert len(links) == 1, (path, page.text[:1500])
        href = links[0].replace("&amp;", "&")
        assert href.startswith("/-/lang?to=zh&next=")
        answer = requests.get(url + href, allow_redirects=False, timeout=60)
        assert answer.status_code == 303
        assert answer.headers["Location"] == path  # back where the reader was, query and all


def test_the_switch_persists_and_beats_accept_language(url: str) -> None:
    reader = requests.Session()
    reader.headers.update({**HTML, "Accept-Language": "en-US,en;q=0.9"})
    switched = reader.get(url + "/-/lang", params={"to": "zh", "next": INSTANCE_PATH}, timeout=60)
    assert switched.history[0].status_code == 303
    cookie = switched.history[0].headers["Set-Cookie"]
    assert cookie.startswith("lang=zh;") and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    assert switched.url == url + INSTANCE_PATH and html_lang(switched.text) == "zh-Hans"
    assert html_lang(reader.get(url + "/", timeout=60).text) == "zh-Hans"  # later pages too
    back = reader.get(url + "/-/lang", params={"to": "en", "next": "/"}, timeout=60)
    assert html_lang(back.text) == "en" and "<caption>In this graph</caption>" in back.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_the_switch_refuses_to_redirect_off_the_site(url: str, target: str) -> None:
    answer = requests.get(
        url + "/-/lang", params={"to": "zh", "next": target}, allow_redirects=False, timeout=60
    )
    assert answer.status_code == 400, answer.headers
    assert "Location" not in answer.headers and "Set-Cookie" not in answer.headers
    assert "path of this site" in answer.text


def test_the_switch_refuses_an_unknown_language(url: str) -> None:
    answer = requests.get(url + "/-/lang", params={"to": "fr", "next": "/"}, allow_redirects=False)
    assert answer.status_code == 400 and "Set-Cookie" not in answer.headers
    with_cookie = get(url, "/", cookies={"lang": "fr"})  # a forged cookie: the header decides
    assert html_lang(with_cookie.text) == "en"


# --- Languages of the data -----------------------------------------------------------------


def test_literals_keep_their_own_language_tag(url: str) -> None:
    """A label with a language tag (the 880 parallel scripts) is marked up with it, whatever
    the interface language."""
    query = (
        "SELECT ?s ?label (LANG(?label) AS ?tag) WHERE { ?s rdfs:label ?label "
        'FILTER(LANG(?label) != "" && !isBlank(?s) && STRSTARTS(STR(?s), "http://127.0.0.1:5000/")) } '
        "ORDER BY ?s LIMIT 1"
    )
    rows = requests.get(url + "/sparql", params={"query": query}, timeout=60).json()
    (row,) = rows["results"]["bindings"]
    path = "/" + row["s"]["value"].removeprefix("http://127.0.0.1:5000/")
    label, tag = row["label"]["value"], row["tag"]["value"]
    for language in ("en", "zh-CN"):
        page = get(url, path, language)
        assert page.status_code == 200, page.text
        marked = re.findall(rf'lang="{re.escape(tag)}"[^>]*>([^<]*)<', page.text)
        assert any(text.strip() for text in marked), (tag, label, page.text[:3000])


def test_ontology_labels_follow_the_interface() -> None:
    """The ontology's ``@zh`` label for a Chinese reader, its English one otherwise."""
    app = Flask("web")
    i18n.register(app)
    term = CG.Association.value
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert i18n.term_label(term) == "关联"
        assert i18n.term_label(BF.instanceOf.value) == "所属作品"
        assert i18n.term_label(CG.linkedInstance.value) == "所链接实例"
        # a term the ontology does not label: its local name spelled out, in English
        assert i18n.term_label("http://example.org/v#copyrightHolder") == "copyright holder"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.term_label(term) == "Association"


def test_language_names_follow_the_interface() -> None:
    """The search page's language facet and result lines name languages in the reader's language."""
    from web.search_page import language_label

    app = Flask("web")
    i18n.register(app)
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert [language_label(code) for code in ("eng", "chi", "lat", "qqq")] == ["英语", "中文", "拉丁语", "qqq"]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert [language_label(code) for code in ("eng", "chi", "lat")] == ["English", "Chinese", "Latin"]


# --- The catalogue ---------------------------------------------------------------------------


def _extracted() -> set[str]:
    """The message ids in the code and templates, read as ``babel.cfg`` tells ``pybabel``."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def test_every_message_has_a_chinese_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 50  # the extraction found the templates and the Python
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {_singular(m.id): m for m in catalogue if m.id}
    untranslated = sorted(
        m for m in extracted if m not in translated or not all(_forms(translated[m].string))
    )
    assert not untranslated, f"messages with no Chinese in messages.po: {untranslated}"
    assert not [m.id for m in translated.values() if m.fuzzy], "fuzzy translations"
    stale = sorted(set(translated) - extracted)
    assert not stale, f"messages.po translates what the code no longer says: {stale}"
    for message in translated.values():
        for form in _forms(message.string):  # a plural message: each form has the placeholders
            assert _placeholders(_singular(message.id)) == _placeholders(form), message.id


def _singular(message_id: str | tuple[str, ...]) -> str:
    """A message's id, the singular of a plural one (``ngettext``)."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def test_the_compiled_catalogue_matches_its_source() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        m.id
        for m in catalogue
        if m.id
        and (
            compiled.gettext(m.id) != m.string
            if isinstance(m.id, str)
            else compiled.ngettext(m.id[0], m.id[1], 1) != m.string[0]
        )
    ]
    assert not stale, (
        f"messages.mo is older than messages.po for {stale}: "
        "run `pybabel compile -d web/translations`"
    )


# --- In a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_the_chinese_home_page_is_drawn_with_a_cjk_font(url: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs headless Chromium (Debian package 'chromium')")
    if not CJK_FONT.exists():
        pytest.skip("needs the Noto CJK fonts (Debian package fonts-noto-cjk, .ci/install --test)")
    with Chromium(tmp_path / "profile") as browser:
        browser.navigate(url + "/-/lang?to=zh&next=/")  # the reader's click on 中文
        assert browser.evaluate("document.documentElement.lang") == "zh-Hans"
        assert browser.evaluate("document.querySelector('caption').textContent") == "本图谱收录"
        browser.send("DOM.enable")
        browser.send("CSS.enable")
        document = browser.send("DOM.getDocument")["root"]["nodeId"]
        caption = browser.send("DOM.querySelector", {"nodeId": document, "selector": "caption"})
        fonts = browser.send("CSS.getPlatformFontsForNode", {"nodeId": caption["nodeId"]})["fonts"]
        families = [font["familyName"] for font in fonts]
        assert any("CJK" in family for family in families), families
        shot = browser.screenshot(tmp_path / "home-zh.png")
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
        browser.navigate(url + INSTANCE_PATH)  # the choice holds on the next page
        assert browser.evaluate("document.documentElement.lang") == "zh-Hans"
        assert browser.evaluate("document.querySelector('section.properties h2').textContent") == "描述"
        browser.screenshot(tmp_path / "resource-zh.png")
        assert browser.console_problems() == []
