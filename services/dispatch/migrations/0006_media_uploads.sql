-- Media dispatch uploaded, per business number and content: the same file (sha256) is not
-- uploaded again while Meta keeps its media id (30 days).
CREATE TABLE IF NOT EXISTS dispatch_media_uploads (
    phone_number_id text NOT NULL,
    sha256          text NOT NULL,
    media_id        text NOT NULL,
    mime_type       text NOT NULL,
    size            bigint NOT NULL,
    filename        text,
    uploaded_at     timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (phone_number_id, sha256)
);
