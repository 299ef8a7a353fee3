"""
The quick start (``doc/quickstart.rst``): a live list of tasks in four
files, ``snorky.toml`` (in the project root), ``web.py``, ``index.html``
and ``tasks.py``.
"""
