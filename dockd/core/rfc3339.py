"""The one way dockd writes a time outside: RFC 3339 with its offset. Its own module so
that view models in several core modules share it without importing each other."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, PlainSerializer

Rfc3339 = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    Field(description="RFC 3339 time with an offset"),
]
