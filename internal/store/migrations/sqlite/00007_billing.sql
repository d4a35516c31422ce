-- +goose Up
-- Billing (package billing): plans, one subscription per user with its
-- period's usage counter, and invoices with their lines. Amounts are integer
-- minor units of the row's ISO 4217 currency; times are Unix milliseconds.
CREATE TABLE plans (
    id               INTEGER PRIMARY KEY,
    code             TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    price_amount     INTEGER NOT NULL CHECK (price_amount >= 0),
    currency         TEXT    NOT NULL,
    billing_interval TEXT    NOT NULL CHECK (billing_interval IN ('month', 'year')),
    included_minutes INTEGER NOT NULL CHECK (included_minutes >= 0),
    overage_amount   INTEGER NOT NULL CHECK (overage_amount >= 0), -- per minute over the included ones
    max_agents       INTEGER NOT NULL CHECK (max_agents >= 0),
    features         TEXT    NOT NULL DEFAULT '[]',                -- JSON array of strings
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL
);

-- The current subscription of each user. The period is the cycle'th
-- interval after anchor; usage_* count finished calls metered while this
-- period was open; alerted is the highest usage alert (0, 80, 100) already
-- sent this period, alert_due the highest one reached.
CREATE TABLE subscriptions (
    user_id              INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan_id              INTEGER NOT NULL REFERENCES plans (id),
    status               TEXT    NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
    anchor               INTEGER NOT NULL,
    cycle                INTEGER NOT NULL DEFAULT 0,
    period_start         INTEGER NOT NULL,
    period_end           INTEGER NOT NULL,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    canceled_at          INTEGER,
    scheduled_plan_id    INTEGER REFERENCES plans (id),
    usage_seconds        INTEGER NOT NULL DEFAULT 0,
    usage_calls          INTEGER NOT NULL DEFAULT 0,
    alerted              INTEGER NOT NULL DEFAULT 0,
    alert_due            INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX subscriptions_period_end ON subscriptions (period_end);
CREATE INDEX subscriptions_alert_due ON subscriptions (user_id) WHERE alert_due > alerted;

-- Invoices are kept when their user is deleted (anonymised: the customer
-- snapshot is blanked), so user_id has no foreign key. idem_key makes each
-- billing event issue at most one invoice (cycle:<period start>, change:<version>).
CREATE TABLE invoices (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL,
    idem_key       TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('cycle', 'change')),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    currency       TEXT    NOT NULL,
    subtotal       INTEGER NOT NULL,
    total          INTEGER NOT NULL,
    plan_code      TEXT    NOT NULL,
    period_start   INTEGER NOT NULL,
    period_end     INTEGER NOT NULL,
    issued_at      INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    paid_at        INTEGER,
    paid_via       TEXT,
    payment_ref    TEXT,
    customer_name  TEXT    NOT NULL,
    customer_email TEXT    NOT NULL,
    customer_phone TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX invoices_idem ON invoices (user_id, idem_key);
CREATE INDEX invoices_user ON invoices (user_id, id);     -- history pages, newest first
CREATE INDEX invoices_open ON invoices (user_id, status); -- open balance
CREATE INDEX invoices_due ON invoices (status, due_at); -- the roll-over's past_due check

CREATE TABLE invoice_lines (
    id           INTEGER PRIMARY KEY,
    invoice_id   INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    quantity     INTEGER NOT NULL,
    unit_amount  INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL
);
CREATE UNIQUE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);

-- The default catalogue, in USD (cents). See the README for running in PKR.
INSERT INTO plans (code, name, description, price_amount, currency, billing_interval, included_minutes, overage_amount, max_agents, features, created_at) VALUES
 ('free', 'Free', 'Try Callboard with one agent.', 0, 'USD', 'month', 60, 0, 1,
  '["60 call minutes a month","1 AI agent","Call history and search"]', 0),
 ('starter', 'Starter', 'For a small team taking its first calls.', 1900, 'USD', 'month', 500, 5, 3,
  '["500 call minutes a month","3 AI agents","Recordings and transcripts","$0.05 a minute over"]', 0),
 ('pro', 'Pro', 'For a business whose phones never stop.', 4900, 'USD', 'month', 2000, 4, 10,
  '["2,000 call minutes a month","10 AI agents","Recordings and transcripts","CSV export","$0.04 a minute over"]', 0),
 ('business', 'Business', 'For call centres and many locations.', 19900, 'USD', 'month', 10000, 3, 50,
  '["10,000 call minutes a month","50 AI agents","Priority support","$0.03 a minute over"]', 0);

-- +goose Down
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE subscriptions;
DROP TABLE plans;
