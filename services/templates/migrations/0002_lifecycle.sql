-- What the lifecycle needs beyond 0001: time to live, guidance warnings, a version per change,
-- the last submission error, Meta's pending re-categorisation, the time of the latest status
-- Meta reported (to ignore late, older webhooks), and per-template language fallbacks.
ALTER TABLE templates
    ADD COLUMN message_send_ttl_seconds integer,
    ADD COLUMN warnings           jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN version            integer NOT NULL DEFAULT 1,
    ADD COLUMN last_error         text,
    ADD COLUMN correct_category   text,
    ADD COLUMN status_reported_at timestamptz;

CREATE INDEX templates_by_meta_id ON templates (meta_id) WHERE meta_id IS NOT NULL;
CREATE INDEX templates_by_status ON templates (waba_id, status);

ALTER TABLE template_history
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN cause   text;

CREATE TABLE template_fallbacks (
    waba_id    text NOT NULL,
    name       text NOT NULL,
    languages  text[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (waba_id, name)
);
