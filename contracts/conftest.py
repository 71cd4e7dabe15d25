"""The contract suite's hooks and fixtures live in contracts/harness/plugin.py."""
from contracts.harness.plugin import *  # noqa: F403 - every hook and fixture, by design
