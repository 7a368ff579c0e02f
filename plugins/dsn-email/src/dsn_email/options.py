"""Backend options: their types, checked by ``manage.py check`` and again at send time.

Options are JSON typed in the admin, so ``"12"`` for a group id or ``"orders"`` for a
list of categories is an easy slip. SendGrid would refuse every call of such a batch
(or, for categories, silently drop some); saying which option is wrong is clearer.
"""

from __future__ import annotations

from typing import Any

from dsn_core.exceptions import PermanentDeliveryError

#: SendGrid accepts 10 categories per message; the plugin always adds "dsn".
MAX_CATEGORIES = 9
#: ``List-Unsubscribe-Post`` (RFC 8058), sent only with ``one_click_unsubscribe``: it
#: promises mail providers that a POST to the unsubscribe URL unsubscribes, which only
#: the site can keep.
ONE_CLICK = "List-Unsubscribe=One-Click"


def problems(options: Any, *, sendgrid: bool) -> list[str]:
    """What is wrong with a Backend's options, one sentence each ([] when fine)."""
    if not isinstance(options, dict):
        return []  # core's own check reports options that are not an object
    found: list[str] = []
    if not isinstance(options.get("one_click_unsubscribe", False), bool):
        found.append("'one_click_unsubscribe' must be true or false")
    if not sendgrid:
        return found
    group = options.get("unsubscribe_group_id")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int)):
        found.append(f"'unsubscribe_group_id' must be a whole number, not {group!r}")
    template_id = options.get("template_id")
    if template_id is not None and not isinstance(template_id, str):
        found.append(f"'template_id' must be a string, not {template_id!r}")
    categories = options.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        found.append(f"'categories' must be a list of strings, not {categories!r}")
    elif len(extra_categories(categories)) > MAX_CATEGORIES:
        found.append(
            f"'categories' allows at most {MAX_CATEGORIES} categories besides 'dsn' "
            f"(SendGrid's limit is 10), not {len(extra_categories(categories))}"
        )
    return found


def extra_categories(categories: list[str]) -> list[str]:
    """The Backend's categories other than "dsn", which every message has anyway."""
    return [category for category in dict.fromkeys(categories) if category != "dsn"]


def require_valid(options: Any, *, sendgrid: bool) -> None:
    """Raise PermanentDeliveryError when an option has the wrong type: every message of
    the batch would fail the same way, and only editing the Backend can fix it."""
    if found := problems(options, sendgrid=sendgrid):
        raise PermanentDeliveryError(
            f"Backend option {'; '.join(found)}: fix it in the Backend's options (dsn_email.E006)."
        )
