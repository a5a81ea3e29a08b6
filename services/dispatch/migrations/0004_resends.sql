-- A send whose outcome is unknown is never sent again on its own: an explicit resend is
-- recorded here (who asked, when, and the state the intent was in), and `unconfirmed` (still
-- unknown after the wait, and told so) is an open state a status may still settle.
CREATE TABLE dispatch_resends (
    intent_id    text NOT NULL REFERENCES dispatch_intents (intent_id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    requested_by text NOT NULL,
    from_state   text NOT NULL,
    attempts     integer NOT NULL
);
CREATE INDEX dispatch_resends_intent ON dispatch_resends (intent_id, requested_at);

DROP INDEX dispatch_intents_open;
CREATE INDEX dispatch_intents_open ON dispatch_intents (state, phone_number_id, state_since)
    WHERE state IN ('queued', 'sending', 'unknown', 'redeciding', 'unconfirmed');
