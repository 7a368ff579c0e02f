"""The shipped template renders one plain-text line, read from the package's templates/."""

from __future__ import annotations

from dsn_twitter.message_templates import TwitterPostTemplate


def test_renders_object_actor_target_and_url():
    message = TwitterPostTemplate().render_message(
        None,
        {
            "verb": "post_save",
            "action_object": "Fish & <Chips>",
            "actor_object": "Ada",
            "target": "Blog",
        },
        {"url": "https://example.com/fish"},
    )
    assert message.parts == {"text": "Fish & <Chips> by Ada (Blog) https://example.com/fish"}


def test_falls_back_to_the_verb():
    message = TwitterPostTemplate().render_message(None, {"verb": "user_logged_in"}, {})
    assert message.text == "user_logged_in"


def test_compiles_cleanly():
    assert TwitterPostTemplate.try_compile() is None
