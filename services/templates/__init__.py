"""The registry of message templates: authoring, validation, submission, status sync.

`rules/` holds Meta's rules as pure functions; the modules beside it are the shell around them
(HTTP API, store, Cloud API, Kafka, the sync and repair loops)."""
