"""Logging that never shows a secret value: :class:`MaskingFilter`."""

from __future__ import annotations

import logging as _logging

from keystack._native import _mask


class MaskingFilter(_logging.Filter):
    """A ``logging.Filter`` that replaces, in every record it sees, each
    secret value this process fetched or registered through Keystack (and
    each line of a multi-line value) by ``[REDACTED]``: the message with its
    arguments merged in, and the text of an attached exception.

    Add it to a handler so that every record the handler writes is masked::

        handler.addFilter(keystack.logging.MaskingFilter())
    """

    def filter(self, record: _logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _mask(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _mask(record.exc_text)
        if record.stack_info:
            record.stack_info = _mask(record.stack_info)
        return True


__all__ = ["MaskingFilter"]
