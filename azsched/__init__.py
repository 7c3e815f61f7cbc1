"""`azsched`: a command line for the scheduler's REST API, and a migration tool from Azure Scheduler exports.

An HTTP client of the public API only (`requests`); of scheduler_core it uses the pure domain (the schedule phrase and
local recurrence previews) and nothing that needs Azure storage or the app's settings.
"""
