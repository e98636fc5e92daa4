"""Telegram handlers, one module per feature, registered in this order."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    account,
    appointments,
    checkin,
    fallback,
    gate,
    helprequest,
    officer,
    registration,
)


def register_all(application: Application) -> None:  # type: ignore[type-arg]
    """The gate first, feature modules next, the fallback last."""
    for module in (
        gate,
        registration,
        checkin,
        helprequest,
        appointments,
        account,
        officer,
        fallback,
    ):
        module.register(application)
