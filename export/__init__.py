"""serdevice.export: int8 TFLite export with the SVC and activation heads baked in."""
