"""`wagate send`: flags become Meta's components; bad input is a usage error (exit 2)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cli import send_cmd
from cli.main import main
from cli.send_cmd import template_components
from shared.events.intents import OutboundIntentSubmitted


def test_template_flags_build_meta_components() -> None:
    components = template_components(
        ("Ana", "order_id=42"), ("739201",), "image:https://example.com/a.png", ("0=track/42",)
    )
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "image", "image": {"link": "https://example.com/a.png"}}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "text", "parameter_name": "order_id", "text": "42"},
                {"type": "text", "text": "739201", "sensitive": True},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "track/42"}],
        },
    ]


@pytest.mark.parametrize(
    ("header", "urls"),
    [("gif:https://x", ()), ("imagehttps", ()), (None, ("x=1",)), (None, ("1",))],
)
def test_malformed_template_flags_are_refused(header: str | None, urls: tuple[str, ...]) -> None:
    with pytest.raises(click.BadParameter):
        template_components((), (), header, urls)


@pytest.mark.parametrize(
    "args",
    [
        ["send", "text", "--from", "1", "--to", "2", "--body", ""],
        ["send", "media", "--from", "1", "--to", "2", "--type", "image"],
        [
            "send",
            "media",
            "--from",
            "1",
            "--to",
            "2",
            "--type",
            "audio",
            "--id",
            "9",
            "--caption",
            "no",
        ],
        ["send", "location", "--from", "1", "--to", "2", "--latitude", "91", "--longitude", "0"],
        ["send", "interactive", "--from", "1", "--to", "2", "--json", "{oops"],
        ["send", "text", "--from", "1", "--to", "2", "--body", "x", "--meta", "novalue"],
        ["send", "text", "--from", "1", "--body", "x"],
        ["send", "text", "--from", "1", "--to", "2", "--recipient", "US.1349", "--body", "x"],
        ["send", "text", "--from", "1", "--recipient", "13491208655302741918", "--body", "x"],
        ["send", "text", "--from", "1", "--recipient", "US.1\r\n", "--body", "x"],
    ],
)
def test_invalid_intents_exit_2_before_touching_kafka(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["--bootstrap", "127.0.0.1:1", *args])
    assert result.exit_code == 2, result.output


def test_a_customer_known_by_bsuid_is_addressed_by_recipient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[OutboundIntentSubmitted] = []

    async def produce(_settings: object, intent: OutboundIntentSubmitted, _wait: float) -> None:
        sent.append(intent)

    monkeypatch.setattr(send_cmd, "_send", produce)
    args = ["send", "text", "--from", "1", "--recipient", "US.13491208655302741918", "--body", "x"]
    result = CliRunner().invoke(main, ["--bootstrap", "127.0.0.1:1", *args])
    assert result.exit_code == 0, result.output
    (intent,) = sent
    assert (intent.to, intent.recipient) == (None, "US.13491208655302741918")


def test_a_text_header_parameter() -> None:
    assert template_components(("Ana",), (), None, (), header_param="A-1042")[0] == {
        "type": "header",
        "parameters": [{"type": "text", "text": "A-1042"}],
    }
    with pytest.raises(click.BadParameter, match="text or media"):
        template_components((), (), "image:https://x/a.png", (), header_param="A-1042")
