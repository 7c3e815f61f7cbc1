"""The HTTP API: Azure Scheduler 2016-03-01 REST/JSON on FastAPI."""
