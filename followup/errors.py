"""Errors that stop a run, each with the exit code the README promises.

Bad data inside the workbook is never one of these: it becomes a `Problem` value. These are for
when the run cannot go on, and their message always says what to do next.
"""

from __future__ import annotations


class FollowupError(Exception):
    """A run-stopping error; `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(FollowupError):
    """Bad command-line usage or a bad config file."""

    exit_code = 2


class ConfigError(UsageError):
    """The config file is missing, unreadable or has a bad key or value."""


class WorkbookError(FollowupError):
    """The workbook cannot be read (missing, not a workbook, no Name column, encrypted)."""

    exit_code = 3


class DeliveryError(FollowupError):
    """The digest could not be delivered; it is kept in the outbox for the next run."""

    exit_code = 4
