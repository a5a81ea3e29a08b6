"""Meta's rules for message templates as pure functions: values in, issues or results out.

No I/O, no clock, no logging: the shell (`handlers`, `sync`, `web`) reads the store, the
Cloud API and the time, and hands the values in. `validation.check` is the entry point for
a creation request; the other modules each hold one family of rules.
"""
