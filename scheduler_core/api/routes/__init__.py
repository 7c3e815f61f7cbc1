"""The API's routes, one module per resource; `common.py` holds the dependencies they share (api-version, the
resource references, the services)."""
