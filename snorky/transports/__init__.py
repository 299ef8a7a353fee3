"""
Transports: each turns connections of one protocol into
:class:`~snorky.Client` objects of a :class:`~snorky.ServiceRegistry`.
"""
