-- Each business number's throughput budget, shared by every dispatch replica: a token bucket
-- on PostgreSQL's clock that replicas lease small blocks of tokens from (services/dispatch/
-- budget.py). `granted` is what the latest lease took; `blocked_until` is Meta's last 130429.
CREATE TABLE dispatch_budgets (
    phone_number_id text PRIMARY KEY,
    tokens          double precision NOT NULL,
    stamp           timestamptz NOT NULL,
    rate            double precision NOT NULL CHECK (rate > 0),
    burst           double precision NOT NULL CHECK (burst >= 1),
    granted         integer NOT NULL DEFAULT 0,
    blocked_until   timestamptz
);
