"""
The chat example: rooms, a member list that follows presence, and a tiny
login that authorizes identities through Snorky's backend. Run it with
``.venv/bin/python -m examples.chat``.
"""
