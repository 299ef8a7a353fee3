"""`load_toml`: reading Snorky's configuration files, which are TOML."""

import tomllib
from typing import Any, Dict

__all__ = ["load_toml"]


def load_toml(path: str) -> Dict[str, Any]:
    """
    Read and parse the TOML file at *path*.

    :raises ValueError: one line, starting with *path*, if it cannot be
        read or parsed.
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ValueError("{}: {}".format(path, e.strerror or e)) from None
    except UnicodeDecodeError as e:
        raise ValueError(
            "{}: not UTF-8 (byte {} of the file)".format(path, e.start + 1)
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError("{}: {}".format(path, e)) from None
