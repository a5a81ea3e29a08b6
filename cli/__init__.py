"""The `wagate` command line: send intents, tail topics, drive the sandbox, manage topics."""
