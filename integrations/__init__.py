"""Event outputs for the tools users already run: MQTT brokers and HTTP webhooks."""
