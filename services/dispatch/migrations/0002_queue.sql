-- The ledger is also dispatch's durable queue: the approved decision is kept whole so any
-- replica can send, retry or settle it after a crash; `reported` is the last state published.
ALTER TABLE dispatch_intents
    ADD COLUMN decision        jsonb,
    ADD COLUMN priority        text NOT NULL DEFAULT 'notification',
    ADD COLUMN not_after       timestamptz,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN state_since     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN reported        text;

CREATE INDEX dispatch_intents_open ON dispatch_intents (state, phone_number_id, state_since)
    WHERE state IN ('queued', 'sending', 'unknown');

-- Statuses that arrived before their wamid was known, applied when it is recorded.
CREATE TABLE dispatch_early_statuses (
    wamid       text NOT NULL,
    status      text NOT NULL,
    event       jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (wamid, status)
);
