"""Configuration from the environment (and `.env`), exactly as the table in docs/design.md.

Everything is parsed and validated up front so a bad value stops the bot with one
clear line naming the variable, instead of failing hours later in a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.timeparse import parse_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEB_LISTEN = "127.0.0.1:8081"  # `oprit web` without OPRIT_WEB_LISTEN


class ConfigError(ValueError):
    """A configuration value a person must fix; the message names the variable."""


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


def _duration_list(value: object) -> object:
    if not isinstance(value, str):
        return value
    parts = [part for part in value.split(",") if part.strip()]
    if not parts:
        raise ValueError("give at least one duration, e.g. 24h,2h")
    return sorted({parse_duration(part) for part in parts}, reverse=True)


@dataclass(frozen=True)
class CheckinSchedule:
    """Weekdays (0 = Monday) and a local time at which check-in prompts go out."""

    weekdays: tuple[int, ...]
    at: time

    @classmethod
    def parse(cls, value: str) -> CheckinSchedule:
        """Parse `mon,thu 10:00`."""
        parts = value.strip().lower().split()
        if len(parts) != 2:
            raise ValueError(f"{value!r} is not like 'mon,thu 10:00'")
        days, clock = parts
        weekdays: list[int] = []
        for day in days.split(","):
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
            weekdays.append(WEEKDAYS.index(day))
        try:
            if not clock.isascii():
                raise ValueError
            hour, minute = (int(piece) for piece in clock.split(":"))
            at = time(hour, minute)
        except ValueError:
            raise ValueError(f"{clock!r} is not a time like 10:00") from None
        return cls(tuple(sorted(set(weekdays))), at)


def _schedule(value: object) -> object:
    return CheckinSchedule.parse(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class ListenAddress:
    """A `host:port` to listen on."""

    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> ListenAddress:
        """Parse `127.0.0.1:8080` or `[::1]:8080`."""
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isascii() or not port.isdigit():
            raise ValueError(f"{value!r} is not host:port, e.g. 127.0.0.1:8080")
        if not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port, e.g. 127.0.0.1:8080")
        return cls(host.strip("[]"), int(port))


def _listen(value: object) -> object:
    if isinstance(value, ListenAddress):
        return value
    return ListenAddress.parse(value) if isinstance(value, str) and value.strip() else None


Duration = Annotated[timedelta, BeforeValidator(_duration)]
DurationList = Annotated[list[timedelta], NoDecode, BeforeValidator(_duration_list)]
Schedule = Annotated[CheckinSchedule, NoDecode, BeforeValidator(_schedule)]
Listen = Annotated[ListenAddress | None, NoDecode, BeforeValidator(_listen)]


class Settings(BaseSettings):
    """All of Oprit's settings; see the README for what each one does."""

    model_config = SettingsConfigDict(
        env_prefix="OPRIT_", env_file=".env", extra="ignore", frozen=True
    )

    bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///data/oprit.db"
    timezone: str = "Europe/Amsterdam"
    default_language: str = "nl"
    reminder_offsets: DurationList = [timedelta(hours=24), timedelta(hours=2)]
    checkin_schedule: Schedule = CheckinSchedule((0, 3), time(10, 0))
    missed_checkins_alert: int = 2
    escalation_after: Duration = timedelta(minutes=30)
    reply_window: Duration = timedelta(minutes=10)
    scheduler_tick: Duration = timedelta(seconds=15)
    broadcast_rate: float = 25.0
    encryption_key: str | None = None
    retention_days: int = 730
    officer_chat_id: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: Listen = None
    metrics_listen: Listen = None
    signal_url: str | None = None
    signal_account: str | None = None
    signal_rate: float = 1.0
    # The dashboard (bot.web): `oprit web` listens on web_listen or DEFAULT_WEB_LISTEN; `oprit
    # run` and `oprit webhook` serve it too only when web_listen is set.
    web_listen: Listen = None
    web_public_url: str | None = None

    @field_validator(
        "bot_token",
        "encryption_key",
        "webhook_url",
        "webhook_secret",
        "signal_url",
        "signal_account",
        "web_public_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("officer_chat_id", mode="before")
    @classmethod
    def _blank_chat_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/\S*$", value):
            raise ValueError("must be a URL like https://bot.example.nl/telegram/<random>")
        return value

    @field_validator("signal_url")
    @classmethod
    def _daemon_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/\s]+/?", value):
            raise ValueError("must be the signal-cli daemon's address, like http://127.0.0.1:8080")
        return value.rstrip("/") if value else value

    @field_validator("signal_account")
    @classmethod
    def _phone_number(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
            raise ValueError("must be the bot's number with country code, like +31612345678")
        return value

    @field_validator("signal_rate")
    @classmethod
    def _signal_rate(cls, value: float) -> float:
        if not 0 < value <= 10:
            raise ValueError("must be more than 0 and at most 10 messages a second")
        return value

    @field_validator("web_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be a URL like https://bot.example.nl")
        return value.rstrip("/") if value is not None else None

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL like sqlite+aiosqlite:///data/oprit.db"
            ) from None
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone like Europe/Amsterdam") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _valid_language(cls, value: str) -> str:
        from bot.i18n import available_languages

        if value not in available_languages():
            raise ValueError(f"must be one of {', '.join(available_languages())}")
        return value

    @field_validator("missed_checkins_alert")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be 1 or more")
        return value

    @field_validator("retention_days")
    @classmethod
    def _positive_days(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be 1 or more days")
        return value

    @field_validator("broadcast_rate")
    @classmethod
    def _sane_rate(cls, value: float) -> float:
        if not 0 < value <= 30:
            raise ValueError("must be more than 0 and at most 30 (Telegram's limit per bot)")
        return value

    @field_validator("scheduler_tick", "escalation_after", "reply_window")
    @classmethod
    def _positive_duration(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The zone used when showing a time to a person."""
        return ZoneInfo(self.timezone)

    @property
    def data_dir(self) -> Path:
        """Where the default database and key file live (relative to the working dir)."""
        return Path("data")


# Container secrets (compose `secrets:`): a file per setting, named like the variable
# (`/run/secrets/oprit_bot_token`). The environment and `.env` win over these files.
SECRETS_DIR = Path("/run/secrets")


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one sentence per bad variable."""
    try:
        if SECRETS_DIR.is_dir():
            return Settings(_secrets_dir=SECRETS_DIR)  # type: ignore[call-arg]
        return Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else "?"
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"OPRIT_{field.upper()}: {message}")
        raise ConfigError("; ".join(problems)) from None
