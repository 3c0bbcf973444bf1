"""The composition root: the only place that turns settings into adapters and services.

`adapters.py` picks one adapter per port, `services.py` builds the core services over them,
`tracing.py` starts the OpenTelemetry SDK, `backup.py` picks the stores a backup reads.
The API, the worker and the CLI start here; nothing below (core, adapters) imports it.
"""
