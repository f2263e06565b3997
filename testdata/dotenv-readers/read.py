"""Reads .env files with python-dotenv as an application would (dotenv_values, defaults).

Usage: python3 read.py FILE...; prints one JSON array: per file {"values": {...}} or
{"error": "..."}, plus {"version": ...} first. Part of Junction's dotenv round-trip test.
"""
import json
import logging
import sys

import dotenv
from dotenv.version import __version__

logging.disable(logging.CRITICAL)  # python-dotenv warns about lines it cannot parse
out = [{"version": __version__}]
for path in sys.argv[1:]:
    try:
        values = dotenv.dotenv_values(path)
        out.append({"values": {k: v for k, v in values.items() if v is not None}})
    except Exception as e:  # noqa: BLE001 - a file a reader cannot read is a result
        out.append({"error": repr(e)})
json.dump(out, sys.stdout)
