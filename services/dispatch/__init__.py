"""Sends approved intents to the Cloud API, once, and reports what became of them.

app.build wires the pieces over the adapters it is given; app.run gives it the real ones.
The shell: handlers (decisions into the ledger's queue; one attempt of a queued intent),
statuses (Meta's statuses), settler (what no message triggers), sender (one sending task per
number), transitions (record in the ledger, then report what moved), reports (what goes to
Kafka). The ledger: ledger (its states, rows and port), store (PostgreSQL). Pure decisions:
attempts, outcomes, retry, rates, lanes, circuit, payloads; backpressure pauses partitions.
"""
