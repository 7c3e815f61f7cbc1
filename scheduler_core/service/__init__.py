"""Use cases, written against the ports: job collection and job management (API), planning (timer), execution
(queue). Each trigger calls one function here."""
