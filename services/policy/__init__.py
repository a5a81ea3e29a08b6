"""Decides, for every outbound intent, whether Meta's rules and the business's allow it."""
