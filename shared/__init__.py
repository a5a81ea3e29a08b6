"""Contracts and plumbing shared by every wagate service; no business rules live here, and
nothing here imports a service or the CLI.

- `events/`: the event models, one module per topic family, with the facts of the contract said
  once: `reasons.py` (every reason code), `message_types.py` (the Cloud API's message types).
- `topics.py` (the registry), `codec.py` (bytes <-> events), `messaging.py` (producer, consumer,
  the consume loop and the `EventPublisher` port), `deadletters.py` (dead-letter headers).
- `meta_errors.py`: Meta's error codes and what each means for a sender.
- `settings.py` (settings groups, the Graph API version), `db.py` (pool, migrations,
  reachability), `runtime.py`, `http.py`, `logs.py`, `metrics.py`, `errors.py` (the error roots),
  `sealing.py`, `webhook_signature.py`, `schemas.py`, `client.py` (the Python client).
- `tracing.py` (trace context across the hops), `telemetry.py` (installing tracing: provider,
  exporters, instrumentations).
"""
