-- The idempotency ledger: one row per intent, claimed before any Cloud API call.
CREATE TABLE dispatch_intents (
    intent_id       text PRIMARY KEY,
    phone_number_id text NOT NULL,
    recipient       text NOT NULL,
    state           text NOT NULL,
    wamid           text UNIQUE,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      jsonb,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
