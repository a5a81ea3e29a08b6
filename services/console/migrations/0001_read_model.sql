-- The console's read model: one append-only table per kind of fact, each row keyed by the
-- event_id it came from (a redelivered event changes nothing), plus the customers seen.
-- Nothing sealed is stored: decisions keep the intent as policy showed it, already redacted.

CREATE TABLE IF NOT EXISTS console_customers (
    id          bigserial PRIMARY KEY,
    customer    text NOT NULL UNIQUE,
    first_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS console_identities (
    customer    text NOT NULL,
    identifier  text NOT NULL,
    kind        text NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (customer, identifier)
);
CREATE INDEX IF NOT EXISTS console_identities_identifier ON console_identities (identifier);

CREATE TABLE IF NOT EXISTS console_intents (
    event_id          text PRIMARY KEY,
    intent_id         text NOT NULL,
    phone_number_id   text NOT NULL,
    customer          text NOT NULL,
    content_type      text NOT NULL,
    template_name     text,
    template_language text,
    priority          text NOT NULL,
    metadata          jsonb NOT NULL,
    metadata_values   text[] NOT NULL,
    body              jsonb NOT NULL,
    occurred_at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_intents_intent ON console_intents (intent_id);
CREATE INDEX IF NOT EXISTS console_intents_customer ON console_intents (customer, occurred_at DESC);
CREATE INDEX IF NOT EXISTS console_intents_number ON console_intents (phone_number_id, occurred_at DESC);
CREATE INDEX IF NOT EXISTS console_intents_template ON console_intents (template_name, template_language);
CREATE INDEX IF NOT EXISTS console_intents_metadata ON console_intents USING gin (metadata_values);
CREATE INDEX IF NOT EXISTS console_intents_time ON console_intents (occurred_at DESC);

CREATE TABLE IF NOT EXISTS console_decisions (
    event_id        text PRIMARY KEY,
    intent_id       text NOT NULL,
    phone_number_id text NOT NULL,
    customer        text NOT NULL,
    outcome         text NOT NULL,
    reasons         text[] NOT NULL,
    detail          text NOT NULL,
    window_seen     jsonb,
    pricing         text,
    valid_until     timestamptz,
    policy_version  text NOT NULL,
    intent          jsonb NOT NULL,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_decisions_intent ON console_decisions (intent_id);
CREATE INDEX IF NOT EXISTS console_decisions_customer ON console_decisions (customer, occurred_at DESC);

CREATE TABLE IF NOT EXISTS console_deliveries (
    event_id        text PRIMARY KEY,
    intent_id       text NOT NULL,
    phone_number_id text NOT NULL,
    customer        text NOT NULL,
    state           text NOT NULL,
    wamid           text,
    reasons         text[] NOT NULL,
    detail          text NOT NULL,
    errors          jsonb NOT NULL,
    pricing         jsonb,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_deliveries_intent ON console_deliveries (intent_id, occurred_at);
CREATE INDEX IF NOT EXISTS console_deliveries_held ON console_deliveries (intent_id) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS console_deliveries_number ON console_deliveries (phone_number_id, occurred_at DESC);

CREATE TABLE IF NOT EXISTS console_windows (
    event_id                 text PRIMARY KEY,
    phone_number_id          text NOT NULL,
    customer                 text NOT NULL,
    change                   text NOT NULL,
    last_customer_message_at timestamptz NOT NULL,
    expires_at               timestamptz NOT NULL,
    occurred_at              timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_windows_customer ON console_windows (customer, phone_number_id, occurred_at DESC);

CREATE TABLE IF NOT EXISTS console_consent (
    event_id        text PRIMARY KEY,
    phone_number_id text NOT NULL,
    customer        text NOT NULL,
    category        text NOT NULL,
    opted_in        boolean NOT NULL,
    source          text NOT NULL,
    intent_id       text,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_consent_customer ON console_consent (customer, occurred_at);

CREATE TABLE IF NOT EXISTS console_inbound (
    event_id            text PRIMARY KEY,
    phone_number_id     text NOT NULL,
    waba_id             text,
    display_phone_number text,
    customer            text NOT NULL,
    message_id          text NOT NULL,
    message_type        text NOT NULL,
    text                text,
    contact_name        text,
    sent_at             timestamptz NOT NULL,
    occurred_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_inbound_customer ON console_inbound (customer, phone_number_id, sent_at);

CREATE TABLE IF NOT EXISTS console_template_states (
    event_id        text PRIMARY KEY,
    waba_id         text NOT NULL,
    name            text NOT NULL,
    language        text NOT NULL,
    category        text NOT NULL,
    status          text NOT NULL,
    quality         text,
    rejected_reason text,
    correct_category text,
    version         integer NOT NULL,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_template_states_key ON console_template_states (waba_id, name, language, version DESC, occurred_at DESC);

CREATE TABLE IF NOT EXISTS console_account_updates (
    event_id             text PRIMARY KEY,
    waba_id              text NOT NULL,
    field                text NOT NULL,
    event                text,
    display_phone_number text,
    details              jsonb NOT NULL,
    reported_at          timestamptz,
    occurred_at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_account_updates_waba ON console_account_updates (waba_id, occurred_at DESC);

-- A dead letter is a Kafka record, not an event: its position is its identity. `shown` is the
-- value as the console may display it (sealed values dropped, one-time codes redacted); a
-- redrive reads the record itself again from the topic.
CREATE TABLE IF NOT EXISTS console_dead_letters (
    topic            text NOT NULL,
    partition        integer NOT NULL,
    "offset"         bigint NOT NULL,
    record_key       text,
    reason           text NOT NULL,
    source_topic     text,
    source_partition integer,
    source_offset    bigint,
    consumer_group   text,
    intent_id        text,
    headers          jsonb NOT NULL,
    shown            text NOT NULL,
    occurred_at      timestamptz NOT NULL,
    redriven_at      timestamptz,
    redriven_by      text,
    redrives         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS console_dead_letters_time ON console_dead_letters (occurred_at DESC);
CREATE INDEX IF NOT EXISTS console_dead_letters_intent ON console_dead_letters (intent_id);
