"""Building pymarc ``Field`` and ``Subfield`` objects at reading speed.

The readers make a few dozen fields per record, and ``pymarc.Field(...)``
costs about 1.7 µs each: its constructor re-checks the tag, the type of the
subfield list and re-creates the ``Indicators`` tuple it is given. The
readers have already checked all of that, so :func:`data_field` and
:func:`control_field` fill the same slots directly (about 0.25 µs), and
:func:`subfield` and :func:`indicators` skip the Python-level ``__new__``
of the named tuples.

The result must be indistinguishable from pymarc's own objects: at import,
:func:`_same_as_pymarc` compares every slot of a field built both ways, and
if a pymarc release ever lays ``Field`` out differently, the helpers fall
back to pymarc's constructor.
"""

from __future__ import annotations

from pymarc import Field, Indicators, Subfield

_new_field = Field.__new__
_new_tuple = tuple.__new__


def subfield(code: str, value: str) -> Subfield:
    """``Subfield(code, value)`` without the named tuple's Python-level ``__new__``."""
    return _new_tuple(Subfield, (code, value))


def indicators(first: str, second: str) -> Indicators:
    """``Indicators(first, second)``, likewise."""
    return _new_tuple(Indicators, (first, second))


def _fast_data_field(tag: str, indicators: Indicators, subfields: list[Subfield]) -> Field:
    """``Field(tag=tag, indicators=indicators, subfields=subfields)`` for a checked 3-character tag."""
    field = _new_field(Field)
    field.tag = tag
    field._indicators = indicators
    field.subfields = subfields
    field.data = None
    field.control_field = False
    return field


def _fast_control_field(tag: str, data: str) -> Field:
    """``Field(tag=tag, data=data)`` for a control field tag (00X)."""
    field = _new_field(Field)
    field.tag = tag
    field._indicators = None
    field.subfields = []
    field.data = data
    field.control_field = True
    return field


def _slow_data_field(tag: str, indicators: Indicators, subfields: list[Subfield]) -> Field:
    return Field(tag=tag, indicators=indicators, subfields=subfields)


def _slow_control_field(tag: str, data: str) -> Field:
    return Field(tag=tag, data=data)


def _same_as_pymarc() -> bool:
    """True if the fast builders give fields whose every slot equals pymarc's."""
    slots = [name for name in Field.__slots__ if not name.startswith("__")]
    samples = [
        (
            _fast_data_field("245", Indicators("1", "0"), [subfield("a", "x")]),
            Field(tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", "x")]),
        ),
        (_fast_control_field("008", "x"), Field(tag="008", data="x")),
    ]
    missing = object()
    return all(
        type(fast) is type(reference)
        and getattr(fast, name, missing) == getattr(reference, name, missing)
        for fast, reference in samples
        for name in slots
    )


if _same_as_pymarc():
    data_field, control_field = _fast_data_field, _fast_control_field
else:  # pragma: no cover - only with a pymarc whose Field has other slots
    data_field, control_field = _slow_data_field, _slow_control_field
