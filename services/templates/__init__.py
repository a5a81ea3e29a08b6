"""The registry of message templates: authoring, validation, submission, status sync."""
