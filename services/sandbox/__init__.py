"""A local stand-in for Meta's WhatsApp Cloud API that enforces its rules and sends webhooks."""
