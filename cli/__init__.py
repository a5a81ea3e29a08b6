"""The `wagate` command line: send intents, tail topics, drive the sandbox, manage topics and
templates, replay the webhook journal, show a customer service window.

`main.py` assembles the command groups, one module each (`<group>_cmd.py`); `output.py` holds
what every command prints and how it exits (JSON lines, the 69 of an unreachable server),
`params.py` the option values they parse alike. The commands talk to Kafka through `shared`
and to the services over HTTP; only `replay` runs a service's own code (`services.ingest`).
"""
