"""Pure domain: stdlib, dateutil and croniter only; no azure.*, no os.environ, no clock reads."""
