"""The clinic side: record (MQTT -> store), store, event_log, timeline, report, report_png,
loadgen. It imports the stream's contracts and sinks' transport, and imports without openSMILE,
LiteRT or sounddevice: the clinic's machine has no microphone and runs no model."""
