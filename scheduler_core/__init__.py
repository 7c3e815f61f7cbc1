"""Azure Scheduler (2016-03-01) revived on Azure Functions: the core, independent of the Functions host."""
