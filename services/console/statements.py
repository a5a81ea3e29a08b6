"""The console's longer read statements (`queries.py` runs them): an intent's summary, the
identifiers linked to a customer, the numbers page, a template's stopped intents, a chat."""

from __future__ import annotations

from services.console.template_effects import TEMPLATE_REASONS

# an intent's summary: its first record, its customer's page, where it stands
SUMMARY = """
    SELECT i.intent_id, i.phone_number_id, i.customer, i.content_type, i.template_name,
           i.template_language, i.metadata, i.occurred_at, c.id AS customer_id,
           d.state, d.reasons AS state_reasons, p.outcome, p.reasons
      FROM ({found}) i
      LEFT JOIN console_customers c ON c.customer = i.customer
      LEFT JOIN LATERAL (
           SELECT state, reasons FROM console_deliveries x WHERE x.intent_id = i.intent_id
            ORDER BY x.state IN ('rejected', 'delivered', 'read', 'failed', 'expired') DESC,
                     x.occurred_at DESC LIMIT 1) d ON true
      LEFT JOIN LATERAL (
           SELECT outcome, reasons FROM console_decisions y WHERE y.intent_id = i.intent_id
            ORDER BY y.occurred_at DESC LIMIT 1) p ON true
     ORDER BY i.occurred_at DESC"""


FIRST_OF_EACH = """
    SELECT DISTINCT ON (intent_id) * FROM (
        SELECT * FROM console_intents WHERE {where} ORDER BY occurred_at DESC LIMIT {limit}
    ) recent ORDER BY intent_id, occurred_at"""


# every identifier linked to the seeds, through any number of links (never through a name)
LINKED = """
    WITH RECURSIVE linked(identifier) AS (
        SELECT unnest($1::text[])
        UNION
        SELECT i.identifier FROM console_identities i JOIN linked l ON i.customer = l.identifier
         WHERE i.kind NOT IN ('name', 'username')
    ) SELECT identifier FROM linked LIMIT 1000"""


NUMBERS = """
    WITH numbers AS (
        SELECT phone_number_id FROM console_intents
        UNION SELECT phone_number_id FROM console_inbound
    ), latest AS (
        SELECT DISTINCT ON (intent_id) intent_id, phone_number_id, state, reasons, occurred_at
          FROM console_deliveries
         WHERE intent_id IN (SELECT intent_id FROM console_deliveries WHERE state = 'held')
         ORDER BY intent_id, occurred_at DESC
    )
    SELECT n.phone_number_id,
           (SELECT display_phone_number FROM console_inbound m
             WHERE m.phone_number_id = n.phone_number_id AND display_phone_number IS NOT NULL
             ORDER BY occurred_at DESC LIMIT 1) AS display_phone_number,
           (SELECT waba_id FROM console_inbound m
             WHERE m.phone_number_id = n.phone_number_id AND waba_id IS NOT NULL
             ORDER BY occurred_at DESC LIMIT 1) AS waba_id,
           (SELECT count(*) FROM latest l WHERE l.phone_number_id = n.phone_number_id
               AND l.state = 'held') AS held,
           (SELECT max(reasons[1]) FROM latest l WHERE l.phone_number_id = n.phone_number_id
               AND l.state = 'held') AS held_reason,
           (SELECT count(DISTINCT customer) FROM console_decisions p
             WHERE p.phone_number_id = n.phone_number_id AND p.outcome = 'approved'
               AND p.pricing NOT IN ('free_service', 'free_entry_point')
               AND p.occurred_at >= $1) AS reached_24h,
           (SELECT count(*) FROM console_deliveries d WHERE d.phone_number_id = n.phone_number_id
               AND d.state = 'failed' AND d.occurred_at >= $1) AS failed_24h
      FROM numbers n ORDER BY n.phone_number_id"""


TEMPLATE_OUTCOMES = f"""
    WITH named AS (
        SELECT DISTINCT intent_id FROM console_intents
         WHERE template_name = $1 AND template_language = $2
    ), why AS (SELECT ARRAY[{", ".join(f"'{r}'" for r in sorted(TEMPLATE_REASONS))}]::text[] AS r)
    SELECT * FROM (
        SELECT 'decision' AS kind, p.intent_id, p.outcome, p.reasons, p.occurred_at
          FROM console_decisions p, why WHERE p.intent_id IN (SELECT intent_id FROM named)
           AND p.reasons && why.r
        UNION ALL
        SELECT 'delivery', d.intent_id, d.state, d.reasons, d.occurred_at
          FROM console_deliveries d, why WHERE d.intent_id IN (SELECT intent_id FROM named)
           AND d.reasons && why.r
    ) o ORDER BY occurred_at DESC LIMIT $3"""  # noqa: S608 - built from constants


CHAT = """
    SELECT * FROM (
        SELECT 'customer' AS side, m.sent_at AS at, m.message_type AS kind, m.text,
               m.message_id AS ref, NULL::text AS state, NULL::text AS outcome,
               NULL::text[] AS reasons
          FROM console_inbound m WHERE m.customer = $1 AND m.phone_number_id = $2
        UNION ALL
        SELECT 'business', i.occurred_at, i.content_type,
               coalesce(i.body #>> '{content,body}', i.template_name), i.intent_id,
               (SELECT state FROM console_deliveries d WHERE d.intent_id = i.intent_id
                 ORDER BY d.occurred_at DESC LIMIT 1),
               (SELECT outcome FROM console_decisions p WHERE p.intent_id = i.intent_id
                 ORDER BY p.occurred_at DESC LIMIT 1),
               (SELECT reasons FROM console_decisions p WHERE p.intent_id = i.intent_id
                 ORDER BY p.occurred_at DESC LIMIT 1)
          FROM (SELECT DISTINCT ON (intent_id) * FROM console_intents
                 WHERE customer = $1 AND phone_number_id = $2
                 ORDER BY intent_id, occurred_at) i
    ) chat ORDER BY at DESC LIMIT $3"""
