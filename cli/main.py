"""Entry point of the `wagate` command: the root options every command shares (Kafka, profile,
output; `cli.root`) and the command groups, one a module. Exit codes: `cli.output`."""

from __future__ import annotations

from typing import Any

import click

from cli import (
    consent_cmd,
    deadletter_cmd,
    intents_cmd,
    media_cmd,
    numbers_cmd,
    replay_cmd,
    root,
    sandbox_cmd,
    send_cmd,
    spend_cmd,
    tail_cmd,
    templates_cmd,
    topics_cmd,
    window_cmd,
)


@click.group(cls=root.WagateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@root.options
@click.pass_context
def main(ctx: click.Context, /, **options: Any) -> None:
    """wagate: a WhatsApp Business messaging gateway on Kafka."""
    root.setup(ctx, **options)


main.add_command(send_cmd.send)
main.add_command(tail_cmd.tail)
main.add_command(sandbox_cmd.sandbox)
main.add_command(topics_cmd.topics)
main.add_command(replay_cmd.replay)
main.add_command(window_cmd.window)
main.add_command(templates_cmd.templates)
main.add_command(consent_cmd.consent)
main.add_command(deadletter_cmd.deadletter)
main.add_command(media_cmd.media)
main.add_command(intents_cmd.intents)
main.add_command(spend_cmd.spend)
main.add_command(numbers_cmd.numbers)
