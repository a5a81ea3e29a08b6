"""What `wagate deadletter` reads from its arguments: a dead letter's `PARTITION:OFFSET`. The
rules of a redrive (where a letter goes back to, its headers, whether it was already redriven)
are `shared.deadletters`, which the console's redrive follows too."""

from __future__ import annotations


def parse_id(text: str) -> tuple[int, int]:
    """`PARTITION:OFFSET` (as `deadletter list` prints it) as two numbers."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isascii() or not offset.isascii():
        raise ValueError(f"{text!r} is not PARTITION:OFFSET (e.g. 3:1042)")
    if not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"{text!r} is not PARTITION:OFFSET (e.g. 3:1042)")
    return int(partition), int(offset)
