"""The `wagate` command line: send intents, tail topics, list and redrive dead letters, drive
the sandbox, manage topics and templates, replay the webhook journal, show a customer service
window.

`main.py` assembles the command groups, one module each (`<group>_cmd.py`); `root.py` holds
the options every command shares, `config.py` where the servers are (flags, environment,
profile), `output.py` what every command prints and how it exits (tables or JSON lines, the
exit codes), `params.py` the option values they parse alike; `redrive.py` (its ids) and
`letters.py` (Kafka) serve `deadletter` with the rules of `shared.deadletters`, `follow.py`
serves `send --wait`. The commands talk to
Kafka through `shared` and to the services over HTTP; only `replay` runs a service's own code
(`services.ingest`).
"""
