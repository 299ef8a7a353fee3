"""
The Players example: a small web application over SQLite whose page lists
players live through Snorky's DataSync.

``.venv/bin/python -m examples.players`` starts it with a Snorky of its own; see
:mod:`examples.players.__main__`.
"""
