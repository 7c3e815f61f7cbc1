"""The command groups of `azsched`."""
