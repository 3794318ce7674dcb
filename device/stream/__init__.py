"""The stream: microphone or file -> resample -> gate + eGeMAPS -> normalize/adapt -> model -> events.

What runs on the wristband's companion for every chunk of audio: sources, microphone, audio,
resampler, features (+ egemaps_names, opensmile_conf/), gate, normalize, adaptation, state,
calibration, model, sidecar, decision, pipeline, events, fanout, runtime (the Stream), and the
helpers they share (contracts; windowing: window, hop and cuts; files: atomic writes; retry:
backoff). It imports nothing else of serdevice: no sink, clinic, deployment or CLI module, and
never click, paho or psycopg (tests/test_device_imports.py).
"""
