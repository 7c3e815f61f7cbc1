"""devhost: a small local stand-in for the Azure Functions host.

It serves any ``function_app.py`` written with the azure-functions Python v2 programming model (HTTP, timer and
queue triggers) against Azurite, for development and end-to-end tests where Core Tools (``func start``) cannot be
installed. Production runs on the real Functions host.
"""
