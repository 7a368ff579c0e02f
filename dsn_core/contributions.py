"""What messengers, message templates and recipient resolvers have in common: an id."""

from __future__ import annotations

from typing import Any, ClassVar


class Contribution:
    """A class a plugin registers. ``id`` is stored on database rows: keep it stable.

    ``id`` defaults to the class name (so classes registered the seed's way keep their
    configuration) and ``label``, what the admin shows, to the id.
    """

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:
            cls.id = cls.__name__
        if "label" not in cls.__dict__:
            cls.label = cls.id
