"""Entry point of the `wagate` command: the Kafka options every command shares, and the
command groups, one a module. Exit codes: 0 ok, 1 failed outcome, 2 usage, 69 a server is
unreachable."""

from __future__ import annotations

import click

from cli import (
    consent_cmd,
    replay_cmd,
    sandbox_cmd,
    send_cmd,
    tail_cmd,
    templates_cmd,
    topics_cmd,
    window_cmd,
)
from shared.settings import KafkaSettings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--bootstrap",
    envvar="KAFKA_BOOTSTRAP",
    default="localhost:9092",
    show_default=True,
    help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP).",
)
@click.option(
    "--topic-prefix",
    envvar="WAGATE_TOPIC_PREFIX",
    default="",
    help="Prefix of every topic name (env WAGATE_TOPIC_PREFIX).",
)
@click.pass_context
def main(ctx: click.Context, bootstrap: str, topic_prefix: str) -> None:
    """wagate: a WhatsApp Business messaging gateway on Kafka."""
    ctx.obj = KafkaSettings(bootstrap=bootstrap, topic_prefix=topic_prefix, client_id="wagate-cli")


main.add_command(send_cmd.send)
main.add_command(tail_cmd.tail)
main.add_command(sandbox_cmd.sandbox)
main.add_command(topics_cmd.topics)
main.add_command(replay_cmd.replay)
main.add_command(window_cmd.window)
main.add_command(templates_cmd.templates)
main.add_command(consent_cmd.consent)
