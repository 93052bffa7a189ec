"""A request's parameters as the Prometheus and Loki APIs take them: the query string,
and a POSTed form's fields (clients send either)."""

from __future__ import annotations

from typing import Self
from urllib.parse import parse_qsl

from starlette.datastructures import QueryParams
from starlette.requests import Request

from otelite.errors import InvalidRequest

__all__ = ["Form"]

_MAX_FORM_BYTES = 1 << 20


class Form:
    """A request's parameters: the query string, and a POSTed form's fields."""

    def __init__(self, query: QueryParams, form: list[tuple[str, str]]) -> None:
        self._items: list[tuple[str, str]] = [*query.multi_items(), *form]

    @classmethod
    async def of(cls, request: Request) -> Self:
        form: list[tuple[str, str]] = []
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and kind == "application/x-www-form-urlencoded":
            body = await request.body()
            if len(body) > _MAX_FORM_BYTES:
                raise InvalidRequest(f"the form is larger than {_MAX_FORM_BYTES} bytes")
            try:
                form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            except (UnicodeDecodeError, ValueError):
                raise InvalidRequest("the form is not URL-encoded UTF-8") from None
        return cls(request.query_params, form)

    def get(self, name: str) -> str | None:
        """The last non-empty value of ``name``, None when there is none."""
        found = [v for k, v in self._items if k == name and v != ""]
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        return [v for k, v in self._items if k == name]
