"""The ledger's table classes are defined with their annotations already evaluated
(issue 17): as strings, SQLAlchemy `eval`s each of some 280 as every command starts."""

from __future__ import annotations

from dockd.adapters.ledger.schema import Base


def test_no_mapped_annotation_is_left_as_a_string() -> None:
    classes = [mapper.class_ for mapper in Base.registry.mappers]
    assert len(classes) > 30
    strings = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for name, annotation in vars(cls).get("__annotations__", {}).items()
        if isinstance(annotation, str)
    ]
    assert strings == []
