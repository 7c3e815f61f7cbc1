"""`python -m azsched` runs the command line."""

from azsched.main import app

app(prog_name="azsched")
