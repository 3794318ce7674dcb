"""Sinks: where the stream's events go. outputs (stdout, JSONL file, text, MQTT), mqtt (the
transport), live and live_page (the live page). They import the stream, nothing above it."""
