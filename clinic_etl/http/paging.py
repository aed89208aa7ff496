"""Pieces every list reader shares: the set changing under a paged read, and naming what a body held."""

from __future__ import annotations


class SetChanged(Exception):
    """The count a list reports (`counter`) moved between its first page and a later one: the filtered set changed
    during paging, so the list is read again from the start."""

    def __init__(self, path: str, first: int, later: int, page: int, counter: str) -> None:
        super().__init__(path, first, later, page, counter)
        self.path, self.first, self.later, self.page, self.counter = path, first, later, page, counter

    def describe(self) -> str:
        return f"{self.counter} changed from {self.first} to {self.later} on page {self.page}"


def kind_of(value: object) -> str:
    """What a body held where something else was expected, for a message (never the value: it may be personal)."""
    return "null" if value is None else type(value).__name__
