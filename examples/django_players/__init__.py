"""
The Django Players example: the Players page over a Django application
whose ``Player`` model publishes its own DataSync deltas.

``.venv/bin/python -m examples.django_players`` starts it, Snorky included, in one
process; see :mod:`examples.django_players.__main__`. Importing this
package does not import Django.
"""
