"""The interface's language: English or Simplified Chinese, from the reader's choice or browser.

Every string a page shows is a message (``gettext`` in Python, ``_()`` in
templates) whose Chinese lives in ``web/translations/zh/LC_MESSAGES/messages.po``;
Flask-Babel picks the catalogue per request. The language is, in order: the
reader's choice (the ``lang`` cookie, set by ``GET /-/lang?to=zh&next=/path``,
the link every page carries), else the best of ``Accept-Language``, else
English. A switch is a plain link, so it works without JavaScript; it only
stores a preference, so it needs no CSRF token, but its ``next`` is where the
browser is sent afterwards, so only a path of this site is followed (an
absolute or scheme-relative URL is refused: no open redirect).

The compiled ``messages.mo`` is committed beside its ``.po`` (a fresh clone
and a wheel need no build step); ``tests/test_web_languages.py`` fails when
the two disagree or a message has no translation.

Labels from the ontology follow the interface too: ``term_label`` gives the
ontology's ``@zh`` label to a Chinese reader where it has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, g, has_request_context, redirect, request
from flask_babel import Babel, get_locale

from ontology.errors import UsageError
from ontology.vocabulary import label_for
from web.ontology_source import served_ontology

#: Interface languages: code -> its BCP 47 tag for ``<html lang>`` and its own name.
LANGUAGES = {"en": ("en", "English"), "zh": ("zh-Hans", "中文")}
DEFAULT = "en"
COOKIE = "lang"
_YEAR = 365 * 24 * 3600
#: A path of this site: one leading slash, not two (``//host`` is another site), no backslash
#: (browsers read ``/\\host`` as ``//host``), no control characters; at most 2,000 characters.
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\\\x00-\x20\x7f]{0,2000}")

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The reader's choice (the cookie), else the best of ``Accept-Language``, else English."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return best_language(request.accept_languages)


def best_language(accepted: Iterable[tuple[str, float]]) -> str:
    """The reader's most wanted interface language, matched on the primary subtag.

    werkzeug's ``best_match`` tries exact tags first, so ``en-GB,zh;q=0.5`` would
    give Chinese to a British reader; here the order of preference decides.

    >>> best_language([("en-GB", 1), ("zh", 0.5)]), best_language([("zh-CN", 1), ("en", 0.8)])
    ('en', 'zh')
    >>> best_language([("fr", 1), ("*", 0.1)]), best_language([("zh", 0)])
    ('en', 'en')
    """
    ranked = sorted(accepted, key=lambda pair: -pair[1])  # stable: ties keep the reader's order
    for tag, quality in ranked:
        primary = tag.split("-")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT


def interface_language() -> str:
    """``en`` or ``zh``: the catalogue this request uses (English outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def reader_languages() -> list[str]:
    """The languages to prefer among parallel literals: the browser's, Chinese first when the
    interface is Chinese.

    A reader who switched to Chinese sees Chinese titles first where a record has
    them, whatever the browser says; English is the default and changes nothing
    (untagged literals keep coming before ``@en`` ones, ``query.listings.best_label``).
    """
    browser = [lang for lang, _ in request.accept_languages]
    if interface_language() == DEFAULT:
        return browser
    first = LANGUAGES[interface_language()][0]
    return [first, *(lang for lang in browser if lang != first)]


def html_lang() -> str:
    """The interface language as ``<html lang>`` wants it (``zh-Hans``: the script matters)."""
    return LANGUAGES[interface_language()][0]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path of this site, else a ``UsageError`` (no open redirect).

    >>> safe_next("/works?page=2")
    '/works?page=2'
    >>> for bad in ("https://evil.example/", "//evil.example/", "/\\\\evil.example", "evil", ""):
    ...     try:
    ...         safe_next(bad)
    ...     except UsageError:
    ...         print("refused", repr(bad))
    refused 'https://evil.example/'
    refused '//evil.example/'
    refused '/\\\\evil.example'
    refused 'evil'
    refused ''
    """
    if target is None:
        return "/"
    if not _LOCAL_PATH.fullmatch(target):
        raise UsageError("'next' must be a path of this site (starting with one '/')")
    return target


def switch_links() -> list[tuple[str, str, str, bool]]:
    """``(code, tag, name, current)`` and the switch's address for every interface language."""
    here = request.full_path.rstrip("?") if request.query_string else request.path
    current = interface_language()
    root = request.script_root
    links = []
    for code, (tag, name) in LANGUAGES.items():
        query = f"to={code}&next={_quote(here)}"
        links.append((f"{root}/-/lang?{query}", tag, name, code == current))
    return links


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


@blueprint.get("/-/lang")
def switch() -> Response:
    """Store the reader's language in the ``lang`` cookie and go back to ``next``."""
    chosen = request.args.get("to", "")
    if chosen not in LANGUAGES:
        raise UsageError(f"'to' must be one of {', '.join(LANGUAGES)}, got {chosen[:20]!r}")
    target = safe_next(request.args.get("next"))
    response = redirect(request.script_root + target, code=303)
    response.set_cookie(
        COOKIE,
        chosen,
        max_age=_YEAR,
        path=request.script_root or "/",
        samesite="Lax",
        httponly=True,
        secure=request.is_secure,
    )
    return response


def term_label(iri: str) -> str:
    """The ontology's label of ``iri`` in the interface language, else its English label.

    The ontology is the one the app serves (``web.ontology_source``: the
    store's copy as catalogers edited it, else the shipped file), looked up
    once per request: a page names dozens of properties.

    >>> term_label("http://id.loc.gov/ontologies/bibframe/instanceOf")  # outside a request
    'instance of'
    """
    if has_request_context():
        found = g.get("catalograph_term_labels")
        if found is None:
            found = g.catalograph_term_labels = (interface_language(), served_ontology().reference.terms)
        language, terms = found
        term = terms.get(iri)
        if term is not None:
            text = term.labels.get(language) or term.labels.get("en")
            if text:
                return text
    return label_for(iri)


def register(app: Flask) -> None:
    """Flask-Babel on ``app``, the switch route, and the template helpers."""
    Babel(app, locale_selector=select_locale, default_domain="messages")
    app.register_blueprint(blueprint)
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["language_links"] = switch_links

    @app.after_request
    def vary(response: Response) -> Response:
        if response.mimetype == "text/html":  # the same URL reads differently per reader
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
