"""Who may do what: the one table of roles and their permissions.

Reading needs no account at all. An account has one role, and a role is the
set of permissions written here and nowhere else: every route that changes
something names the permission it needs (``web.auth.requires``), never a role
and never a URL prefix, so giving a role more (or a new role) is one line of
this table. ``tests/test_web_permissions.py`` walks the app's routes and fails
for a route that writes without naming a permission here.

- ``edit``: change the graph: the editor's changes, SPARQL Update, Graph Store
  writes, and seeing the editor.
- ``review``: settle the review queue's match candidates and approve others'
  changesets.
- ``manage-accounts``: make, change and remove accounts (for now only
  ``catalograph user``, which needs access to the data directory instead).

``reader`` is the role accounts had before there were roles to edit with: it
is still read from an old data directory and still refused every permission,
but no new account gets it (readers need no account).

Nothing here imports Flask: ``catalograph user`` reads the role names from
this module without loading the web app.
"""

from __future__ import annotations

EDIT = "edit"
REVIEW = "review"
MANAGE_ACCOUNTS = "manage-accounts"
PERMISSIONS = (EDIT, REVIEW, MANAGE_ACCOUNTS)

#: Each role and what it may do; a role not here may do nothing.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "cataloger": frozenset({EDIT}),
    "reviewer": frozenset({EDIT, REVIEW}),
    "admin": frozenset({EDIT, REVIEW, MANAGE_ACCOUNTS}),
    "reader": frozenset(),  # kept from older data directories: known, may nothing
}
#: The roles a new account may be given, weakest first.
ROLES = ("cataloger", "reviewer", "admin")
#: Roles an account may hold: the assignable ones and the legacy ``reader``.
KNOWN_ROLES = (*ROLES, "reader")


def may(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission``.

    >>> may("cataloger", EDIT), may("cataloger", REVIEW), may("admin", MANAGE_ACCOUNTS)
    (True, False, True)
    >>> may("reader", EDIT), may("no such role", EDIT)
    (False, False)
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
