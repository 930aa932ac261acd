"""Sinks of ``gate.app.outbound``: where the gate's events go out (MQTT, webhooks)."""
