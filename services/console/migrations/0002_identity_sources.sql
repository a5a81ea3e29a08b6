-- What linked an identifier to a customer: an inbound message that carried both, or Meta's
-- identity change (`user_changed_number`, `user_changed_user_id`, `send_response`). Empty for
-- the customer's own identifier.
ALTER TABLE console_identities ADD COLUMN IF NOT EXISTS source text;
