-- Templates per WhatsApp Business Account, name and language, with every change kept.
CREATE TABLE templates (
    waba_id          text NOT NULL,
    name             text NOT NULL,
    language         text NOT NULL,
    category         text NOT NULL,
    parameter_format text NOT NULL DEFAULT 'POSITIONAL',
    components       jsonb NOT NULL DEFAULT '[]'::jsonb,
    meta_id          text,
    status           text NOT NULL DEFAULT 'DRAFT',
    quality          text,
    rejected_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (waba_id, name, language)
);

CREATE TABLE template_history (
    id          bigserial PRIMARY KEY,
    waba_id     text NOT NULL,
    name        text NOT NULL,
    language    text NOT NULL,
    change      text NOT NULL,
    snapshot    jsonb NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX template_history_by_template ON template_history (waba_id, name, language, id);
