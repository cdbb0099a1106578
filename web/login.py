"""``/login`` and ``/logout``: a browser session for a cataloger, reviewer or admin.

Both are Flask-WTF forms, so both carry a CSRF token: a cross-site page can
neither sign a browser in to an account of its choosing nor sign it out. A
sign-in passes the same throttle as HTTP Basic (``web.throttle``: per client
address, per account name, one hash at a time) before its password is
checked, and every refusal reads the same whether the name exists or not
(an unknown name costs an argon2 check too). A right password starts a new
session: whatever the browser's cookie held before is dropped (no session
fixation), and the new id is known to the server, so ``/logout`` ends it
there and not only in this browser.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ontology.errors import CatalographError, UsageError
from web.accounts import MAX_PASSWORD, Principal
from web.auth import (
    CSRF_FIELD,
    CsrfError,
    accounts,
    open_to_all,
    session_principal,
    sign_in_throttle,
)
from web.i18n import safe_next
from web.permissions import EDIT
from web.sessions import SESSION_ID
from web.throttle import SignInBusyError, TooManySignInsError

blueprint = Blueprint("login", __name__)

#: The roles as a page names them.
ROLE_LABELS = {
    "cataloger": lazy_gettext("cataloger"),
    "reviewer": lazy_gettext("reviewer"),
    "admin": lazy_gettext("administrator"),
    "reader": lazy_gettext("reader (old role: may not edit)"),
}


class SessionsUnavailableError(CatalographError):
    """The data directory has no signing key and cannot be given one (HTTP 503)."""

    http_status = 503


class LoginForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(
        lazy_gettext("Password"), validators=[InputRequired(), Length(max=MAX_PASSWORD)]
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only its CSRF token: signing out must not be something another site can do."""


def _sessions_available() -> None:
    if not current_app.secret_key:
        raise SessionsUnavailableError(
            "signing in is unavailable: the server cannot make its session key "
            "(session.key) in the data directory; see the server's log"
        )


def _target(raw: str | None) -> str:
    """Where to go after signing in: a path of this site, else the editor."""
    try:
        return safe_next(raw) if raw else "/editor"
    except UsageError:
        return "/editor"


def _page(form: LoginForm, problem: str | None = None, status: int = 200) -> Response:
    body = render_template("login.html", form=form, problem=problem)
    return Response(body, status=status, content_type="text/html; charset=utf-8")


@blueprint.route("/login", methods=["GET", "POST"])
@open_to_all("signing in checks a password and needs no role; the form carries a CSRF token")
def login() -> Response:
    _sessions_available()
    form = LoginForm(next=request.args.get("next", ""))
    if request.method != "POST":
        return _page(form)
    if not form.validate_on_submit():
        if CSRF_FIELD in form.errors:
            return _page(form, gettext("The form has expired; please sign in again."), 400)
        return _page(form, gettext("Give a name and a password."), 400)
    name, password = form.name.data or "", form.password.data or ""
    try:
        principal = _check(name, password)
    except TooManySignInsError as busy:
        message = gettext(
            "Too many failed sign-ins; try again in %(seconds)s seconds.", seconds=busy.retry_after
        )
        return _refused(form, message, 429, busy.retry_after)
    except SignInBusyError as busy:
        message = gettext("The server is checking other sign-ins; try again in a moment.")
        return _refused(form, message, 503, busy.retry_after)
    if principal is None:
        return _page(form, gettext("Wrong name or password."), 200)
    _start_session(principal)
    return redirect(request.script_root + _target(form.next.data), code=303)


def _check(name: str, password: str) -> Principal | None:
    """The account if the password is right, after the throttle let the check run."""
    with sign_in_throttle().attempt(request.remote_addr or "unknown", name[:64]) as accepted:
        principal = accounts().verify(name, password)
        if principal is not None:
            accepted()
    return principal


def _refused(form: LoginForm, message: str, status: int, retry_after: int) -> Response:
    response = _page(form, message, status)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _start_session(principal: Principal) -> None:
    """A new session for ``principal``: nothing of the browser's earlier one is kept."""
    old = session.get(SESSION_ID)
    session.clear()
    g.pop(CSRF_FIELD, None)  # Flask-WTF's token of the old session, cached for this request
    if old:
        accounts().close_session(old)
    session[SESSION_ID] = accounts().open_session(principal.name)
    session.permanent = True
    g.pop("session_principal", None)


@blueprint.post("/logout")
@open_to_all("ends the sender's own session; the form carries a CSRF token")
def logout() -> Response:
    _sessions_available()
    if not LogoutForm().validate_on_submit():
        raise CsrfError("signing out needs the page's CSRF token; reload the page and try again")
    accounts().close_session(session.get(SESSION_ID))
    session.clear()
    return redirect(request.script_root + "/", code=303)


def signed_in() -> Principal | None:
    """The account of this browser's session, for the page header (``None`` for readers)."""
    if not current_app.secret_key or SESSION_ID not in session:
        return None
    return session_principal()


def register(app: Flask) -> None:
    """The routes and the template helpers (who is signed in, the CSRF token, role names)."""
    app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        signed_in=signed_in,
        csrf_token=generate_csrf,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        may_edit=lambda principal: principal is not None and principal.may(EDIT),
    )

    @app.after_request
    def private(response: Response) -> Response:
        """A page made for a signed-in account (its name, its CSRF token) is for it alone."""
        if g.get("session_principal") is not None:
            response.headers["Cache-Control"] = "private, no-store"
        return response
