-- Ingest's dedupe memory: every event id it published (or is publishing) from Meta's webhooks.
-- `done = false` is a claim held by a request in flight; a stale claim (its request died) can be
-- taken over after a lease. Rows older than the retention are deleted by ingest's expiry task.
CREATE TABLE IF NOT EXISTS ingest_seen_events (
    event_id   text PRIMARY KEY,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    done       boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS ingest_seen_events_claimed_at ON ingest_seen_events (claimed_at);
