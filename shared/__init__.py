"""Contracts and plumbing shared by every wagate service: event schemas, topics, codec,
settings, Kafka and PostgreSQL helpers, logs and metrics. No business rules live here."""
