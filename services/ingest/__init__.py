"""The only door from Meta into wagate: verifies, journals and normalises webhooks."""
