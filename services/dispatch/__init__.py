"""Sends approved intents to the Cloud API, once, and reports what became of them."""
