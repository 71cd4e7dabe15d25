"""The contract suite's hooks and fixtures live in contracts/harness/plugin.py."""
from contracts.harness.plugin import *  # noqa: F401,F403  (pytest finds hooks and fixtures by name)
