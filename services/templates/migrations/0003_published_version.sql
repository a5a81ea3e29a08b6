-- The version last published on the states topic: a state lost between the commit and the
-- broker's acknowledgement is published again by the service's repair loop.
ALTER TABLE templates ADD COLUMN published_version integer NOT NULL DEFAULT 0;
CREATE INDEX templates_unpublished ON templates (waba_id) WHERE published_version < version;
