-- An intent handed back to policy for a fresh decision: the last hand-back, and the wamids of
-- sends that the re-decision replaced (their statuses no longer move the intent).
ALTER TABLE dispatch_intents
    ADD COLUMN redecision jsonb,
    ADD COLUMN superseded text[] NOT NULL DEFAULT '{}';

DROP INDEX dispatch_intents_open;
CREATE INDEX dispatch_intents_open ON dispatch_intents (state, phone_number_id, state_since)
    WHERE state IN ('queued', 'sending', 'unknown', 'redeciding');
