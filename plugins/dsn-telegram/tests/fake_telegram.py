"""A fake Bot API on 127.0.0.1 (pytest-httpserver): records every call and answers like
Telegram, with per-chat behaviours (errors, slowness) set by the test."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Behaviour = Callable[[dict[str, str]], Response | None]


@dataclass
class Call:
    method: str  # Bot API method, e.g. "sendMessage"
    token: str
    http_method: str
    form: dict[str, str]
    at: float  # time.monotonic() when received


def ok(result: Any) -> Response:
    return Response(json.dumps({"ok": True, "result": result}), content_type="application/json")


def error(status: int, description: str, **parameters: Any) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response(json.dumps(body), status=status, content_type="application/json")


BLOCKED = error(403, "Forbidden: bot was blocked by the user")
DEACTIVATED = error(403, "Forbidden: user is deactivated")
CHAT_NOT_FOUND = error(400, "Bad Request: chat not found")
UNAUTHORIZED = error(401, "Unauthorized")


@dataclass
class FakeTelegram:
    server: HTTPServer
    token: str
    calls: list[Call] = field(default_factory=list)
    #: chat id -> behaviour returning a Response, or None for the normal answer.
    chats: dict[str, Behaviour] = field(default_factory=dict)
    #: method -> Response overriding the normal answer (e.g. getMe -> 401).
    methods: dict[str, Response] = field(default_factory=dict)
    #: method -> Responses given to its next calls, one each, before the normal answer.
    queued: dict[str, list[Response]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def sent(self) -> list[Call]:
        return [call for call in self.calls if call.method == "sendMessage"]

    def texts(self) -> list[str]:
        return [call.form["text"] for call in self.sent()]

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path)
        assert match, request.path
        token, method = match.groups()
        form = {key: value for key, value in request.form.items()}
        if not form and request.data:
            form = {k: str(v) for k, v in json.loads(request.data).items()}
        with self._lock:
            self.calls.append(Call(method, token, request.method, form, time.monotonic()))
        if token != self.token:
            return error(401, "Unauthorized")
        with self._lock:
            queued = self.queued.get(method)
            answer = queued.pop(0) if queued else None
        if answer is not None:
            return answer
        if method in self.methods:
            return self.methods[method]
        if method == "getMe":
            return ok({"id": 42, "is_bot": True, "first_name": "DSN", "username": "dsn_test_bot"})
        if method == "sendMessage":
            behaviour = self.chats.get(form["chat_id"])
            answer = behaviour(form) if behaviour else None
            if answer is not None:
                return answer
            with self._lock:
                self._next_id += 1
                message_id = self._next_id
            chat = int(form["chat_id"]) if form["chat_id"].lstrip("-").isdigit() else 0
            return ok(
                {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
                    "text": form["text"],
                }
            )
        if method == "getUpdates":
            pending, self.updates = self.updates, []
            return ok(pending)
        if method in {"setWebhook", "deleteWebhook"}:
            return ok(True)
        return error(404, "Not Found")


def slow(seconds: float) -> Behaviour:
    def behaviour(form: dict[str, str]) -> None:
        time.sleep(seconds)

    return behaviour


def respond(response: Response) -> Behaviour:
    return lambda form: response


def on_call(number: int, response: Response) -> Behaviour:
    """``response`` to the chat's ``number``-th sendMessage (1-based), normal otherwise."""
    lock, calls = threading.Lock(), [0]

    def behaviour(form: dict[str, str]) -> Response | None:
        with lock:
            calls[0] += 1
            return response if calls[0] == number else None

    return behaviour
