"""The message template this plugin ships: one line that reads well as a post or a DM."""

from __future__ import annotations

from dsn_core.message_templates import BaseMessageTemplate


class TwitterPostTemplate(BaseMessageTemplate):
    """ "<object> by <actor> (<target>) <url>": plain text, since X shows no markup.

    ``url`` is a signal argument when the signal sends one (it counts 23 on X whatever
    its length); the messenger trims the rest to fit.
    """

    id = "twitter_post"
    label = "X post: the event's object in one line"
    file_name = "dsn_twitter/post.txt"
