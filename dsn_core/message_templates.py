"""Message templates: Django-template text with optional parts (subject, text, html).

A template's source is code (a class attribute or a file shipped with the code), never
user input from the database: values from the event reach it only as context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.core.exceptions import AppRegistryNotReady
from django.template import Context, Template, TemplateDoesNotExist, TemplateSyntaxError

from . import template_engine
from .contributions import Contribution
from .exceptions import TemplateRenderError
from .messages import RenderedMessage

#: Parts rendered with HTML auto-escaping; every other part is plain text.
HTML_PARTS = frozenset({"html"})


class BaseMessageTemplate(Contribution):
    """Base class for message templates.

    - ``template_string`` or ``file_name``: the main ``text`` part (``file_name`` wins).
    - ``parts`` / ``part_files``: more named parts, e.g. ``{"subject": "..."}`` or
      ``{"html": "myapp/order.html"}``; the ``html`` part is auto-escaped, others are not.
    - ``required_signal_args``: signal arguments the template reads; checked against the
      trigger's signal when an admin saves a subscription.

    The render context holds the trigger context (``verb``, ``action_object``,
    ``actor_object``, ``target``), the signal's keyword arguments and ``user``, both by
    name and under ``context`` (the seed's ``{{ context.verb }}`` style).
    """

    file_name: ClassVar[str | None] = None
    template_string: ClassVar[str | None] = None
    parts: ClassVar[Mapping[str, str]] = {}
    part_files: ClassVar[Mapping[str, str]] = {}
    required_signal_args: ClassVar[Sequence[str]] = ()

    _compiled: ClassVar[dict[str, Template] | None] = None
    _compile_error: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._compiled = None
        cls._compile_error = None

    @classmethod
    def compile(cls) -> dict[str, Template]:
        """Compile every part once per class; raise :class:`TemplateRenderError` on error."""
        if cls._compiled is not None:
            return cls._compiled
        compiled: dict[str, Template] = {}
        sources: list[tuple[str, str, bool]] = []
        if cls.file_name:
            sources.append(("text", cls.file_name, True))
        elif cls.template_string is not None:
            sources.append(("text", cls.template_string, False))
        sources += [(part, source, False) for part, source in cls.parts.items()]
        sources += [(part, name, True) for part, name in cls.part_files.items()]
        if not sources:
            raise TemplateRenderError(
                f"Message template {cls.id!r} defines no template_string, file_name or parts."
            )
        for part, source, is_file in sources:
            autoescape = part in HTML_PARTS
            try:
                if is_file:
                    compiled[part] = template_engine.from_file(
                        source, module=cls.__module__, autoescape=autoescape
                    )
                else:
                    compiled[part] = template_engine.from_string(source, autoescape=autoescape)
            except TemplateDoesNotExist as exc:
                raise TemplateRenderError(
                    f"Message template {cls.id!r}: file {source!r} for part {part!r} was not "
                    f"found in the project's template dirs, installed apps, or the templates/ "
                    f"folder of package {cls.__module__.split('.')[0]!r}."
                ) from exc
            except TemplateSyntaxError as exc:
                raise TemplateRenderError(
                    f"Message template {cls.id!r}, part {part!r}: {exc}"
                ) from exc
        cls._compiled = compiled
        return compiled

    @classmethod
    def try_compile(cls) -> str | None:
        """Compile now and remember the error instead of raising (used at registration)."""
        try:
            cls.compile()
        except TemplateRenderError as exc:
            cls._compile_error = str(exc)
        except AppRegistryNotReady:
            return None  # registered before apps were ready: the system check compiles it
        else:
            cls._compile_error = None
        return cls._compile_error

    def get_template_context(self, context: dict[str, Any]) -> dict[str, Any]:
        """Extend the render context; call ``super()`` to keep what core put there."""
        return context

    def build_context(
        self, user: Any, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        context: dict[str, Any] = {**trigger_context, **signal_kwargs, "user": user}
        # ``user`` is the recipient; a signal argument of that name (user_logged_in's)
        # stays reachable as ``signal_kwargs.user``.
        context["signal_kwargs"] = dict(signal_kwargs)
        context["context"] = context  # the seed's {{ context.verb }}, extensions included
        return self.get_template_context(context)

    def render_message(
        self, user: Any, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> RenderedMessage:
        compiled = self.compile()
        try:
            context = self.build_context(user, trigger_context, signal_kwargs)
            parts = {
                part: t.render(Context(context, autoescape=t.engine.autoescape)).strip()
                for part, t in compiled.items()
            }
        except Exception as exc:
            raise TemplateRenderError(
                f"Message template {self.id!r} failed to render: {exc!r}"
            ) from exc
        return RenderedMessage(parts)

    def render(
        self, user: Any, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> str:
        """The seed's API: the rendered main part as a string."""
        message = self.render_message(user, trigger_context, signal_kwargs)
        return message.text or next(iter(message.parts.values()), "")


class SimplePrintMessageTemplate(BaseMessageTemplate):
    """The seed's demo template, kept under its original id."""

    label = "Simple print message (seed)"
    template_string = (
        "{{ context.verb }} on {{ context.action_object }}"
        "{% if context.actor_object %} by {{ context.actor_object }}{% endif %}"
        "{% if context.target %} ({{ context.target }}){% endif %}"
        "{% if user %}, for {{ user.get_username }}{% endif %}"
    )


class EventSummaryTemplate(BaseMessageTemplate):
    """A generic template that works with any signal: subject plus a one-line summary."""

    id = "event_summary"
    label = "Event summary (any signal)"
    parts = {"subject": "[{{ verb }}]{% if action_object %} {{ action_object }}{% endif %}"}
    template_string = (
        "Hello {{ user.get_username|default:'there' }}: {{ verb }}"
        "{% if action_object %} on {{ action_object }}{% endif %}"
        "{% if actor_object %} by {{ actor_object }}{% endif %}"
        "{% if target %} ({{ target }}){% endif %}."
    )


def Add_Message_Template(template_class: type[BaseMessageTemplate]) -> None:
    """Register a message template from code, as the seed did in ``AppConfig.ready()``."""
    from .registry import message_templates

    message_templates.register(template_class, source=template_class.__module__)
