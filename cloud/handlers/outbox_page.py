"""The staff outbox page: no data in it; its script asks for an API key (kept in this browser
tab only) and lists the notices with every delivery attempt, refreshing every 5 seconds."""

from importlib.resources import files

OUTBOX_PAGE = files("cloud.handlers").joinpath("outbox.html").read_text(encoding="utf-8")
