"""Collecting the checker's diagnostics, and the signal that a part failed after reporting."""

from __future__ import annotations

from dataclasses import replace

from catdsl.errors import Diagnostic, IllegalComposition, Span
from catdsl.typesys.messages import Message


class Failed(Exception):
    """A declaration or expression failed; its diagnostic is already recorded."""


class Reporter:
    """The diagnostics of one check, in the order they were found."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, message: Message, span: Span | None) -> None:
        """Record `message` at `span`."""
        self.diagnostics.append(message.at(span))

    def fail(self, message: Message, span: Span | None) -> Failed:
        """Record `message` and return the failure to raise: `raise reporter.fail(...)`."""
        self.error(message, span)
        return Failed()

    def draw_last(self, figure: IllegalComposition) -> None:
        """Give the last diagnostic a figure, so `catdsl draw` can show it."""
        self.diagnostics[-1] = replace(self.diagnostics[-1], figure=figure)
