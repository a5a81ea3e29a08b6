"""Event models, one module per topic family, all on the envelope of `envelope.py`."""
