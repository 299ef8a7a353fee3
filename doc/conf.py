"""Sphinx configuration for Snorky's documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "Snorky"
author = "The Snorky developers"
copyright = "2026, The Snorky developers"
release = "0.1.0"

extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = False
