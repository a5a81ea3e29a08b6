-- What Meta charged: the latest `pricing` of each wamid's statuses, `delivered` once a
-- delivered/read status carried it (Meta bills delivered messages only). `wagate spend` and
-- `GET /spend` add them up per number, template, category and type.
CREATE TABLE dispatch_charges (
    wamid           text PRIMARY KEY,
    intent_id       text NOT NULL,
    phone_number_id text NOT NULL,
    template        text NOT NULL,
    category        text NOT NULL,
    pricing_type    text NOT NULL,
    pricing_model   text NOT NULL,
    billable        boolean,
    delivered       boolean NOT NULL,
    charged         boolean NOT NULL,
    priced_at       timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispatch_charges_priced ON dispatch_charges (priced_at);
