-- What the delivery update of an intent's current state says beside the state (reasons,
-- detail, errors, wamid, pricing), written with the state: an update whose publication was
-- never confirmed is published again saying exactly that, not a bare state.
ALTER TABLE dispatch_intents ADD COLUMN IF NOT EXISTS report jsonb;
