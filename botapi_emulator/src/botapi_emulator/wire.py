"""Decoding of Bot API requests as PTB sends them, and injected faults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from botapi_emulator.methods import Upload
from botapi_emulator.records import JSON, ApiError, too_many_requests

#: Parameters whose form values are plain strings, never JSON-decoded.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "language_code",
        "action",
        "url",
        "file_id",
        "photo",
        "document",
        "name",
        "description",
        "short_description",
        "title",
        "business_connection_id",
        "message_effect_id",
        "inline_message_id",
        "emoji",
        "query",
        "secret_token",
        "ip_address",
    }
)


def decode_form_value(name: str, value: str) -> Any:
    """Decode one form field the way PTB encoded it (JSON for all but string parameters)."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def parse_request(request: web.Request) -> tuple[JSON, dict[str, Upload]]:
    """Return (parameters, uploaded files) of a JSON, urlencoded or multipart request."""
    params: JSON = {k: decode_form_value(k, v) for k, v in request.query.items()}
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await request.read()
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: JSON body must be an object")
        params.update(data)
    elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = Upload(value.filename, value.content_type, value.file.read())
            else:
                text = value.decode() if isinstance(value, bytes) else str(value)
                params[name] = decode_form_value(name, text)
    return params, files


@dataclass
class Fault:
    """One injected failure, for one request of the matching methods."""

    status: int
    description: str | None
    methods: frozenset[str] | None
    retry_after: int

    def matches(self, method: str) -> bool:
        """Return True if this fault applies to the (lower-case) method."""
        if self.methods is None:
            return method != "getupdates"
        return method in self.methods

    def error(self) -> ApiError:
        """Return the error to answer."""
        if self.status == 429:
            err = too_many_requests(self.retry_after)
            if self.description:
                err.description = self.description
            return err
        try:
            default = HTTPStatus(self.status).phrase
        except ValueError:
            default = "Error"
        return ApiError(self.status, self.description or default)
