"""Configuration: every variable of docs/design.md parses, and bad values name the variable."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.config import CheckinSchedule, ConfigError, ListenAddress, load_settings, parse_duration
from tests.conftest import make_settings


def test_defaults_match_the_design() -> None:
    settings = make_settings()
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.default_language == "nl"
    assert settings.reminder_offsets == [timedelta(hours=24), timedelta(hours=2)]
    assert settings.checkin_schedule == CheckinSchedule((0, 3), time(10, 0))
    assert settings.missed_checkins_alert == 2
    assert settings.escalation_after == timedelta(minutes=30)
    assert settings.scheduler_tick == timedelta(seconds=15)
    assert settings.broadcast_rate == 25
    assert settings.retention_days == 730
    assert settings.officer_chat_id is None
    assert settings.webhook_listen is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("30s", timedelta(seconds=30)),
        (" 24H ", timedelta(hours=24)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "-1h", "1.5h", "10", "1y", "١٢h", "1h; drop table"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPRIT_REMINDER_OFFSETS", "2h, 1d,90m")
    monkeypatch.setenv("OPRIT_CHECKIN_SCHEDULE", "tue,fri 09:30")
    monkeypatch.setenv("OPRIT_OFFICER_CHAT_ID", "-100123")
    monkeypatch.setenv("OPRIT_METRICS_LISTEN", "127.0.0.1:9100")
    settings = load_settings()
    assert settings.reminder_offsets == [
        timedelta(days=1),
        timedelta(hours=2),
        timedelta(minutes=90),
    ]
    assert settings.checkin_schedule == CheckinSchedule((1, 4), time(9, 30))
    assert settings.officer_chat_id == -100123
    assert settings.metrics_listen == ListenAddress("127.0.0.1", 9100)


def test_signal_is_off_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPRIT_SIGNAL_URL", " ")
    monkeypatch.setenv("OPRIT_SIGNAL_ACCOUNT", "")
    settings = load_settings()
    assert (settings.signal_url, settings.signal_account, settings.signal_rate) == (None, None, 1)
    monkeypatch.setenv("OPRIT_SIGNAL_URL", "http://127.0.0.1:8080/")
    monkeypatch.setenv("OPRIT_SIGNAL_ACCOUNT", "+31612345678")
    monkeypatch.setenv("OPRIT_SIGNAL_RATE", "0.5")
    settings = load_settings()
    assert settings.signal_url == "http://127.0.0.1:8080"
    assert (settings.signal_account, settings.signal_rate) == ("+31612345678", 0.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPRIT_DATABASE_URL", "not a url"),
        ("OPRIT_DATABASE_URL", "mysql://x/y"),
        ("OPRIT_TIMEZONE", "Mars/Olympus"),
        ("OPRIT_DEFAULT_LANGUAGE", "xx"),
        ("OPRIT_REMINDER_OFFSETS", "soon"),
        ("OPRIT_REMINDER_OFFSETS", ","),
        ("OPRIT_CHECKIN_SCHEDULE", "someday 10:00"),
        ("OPRIT_CHECKIN_SCHEDULE", "mon 25:00"),
        ("OPRIT_MISSED_CHECKINS_ALERT", "0"),
        ("OPRIT_ESCALATION_AFTER", "0s"),
        ("OPRIT_BROADCAST_RATE", "1000"),
        ("OPRIT_RETENTION_DAYS", "-5"),
        ("OPRIT_OFFICER_CHAT_ID", "group"),
        ("OPRIT_WEBHOOK_LISTEN", "8080"),
        ("OPRIT_METRICS_LISTEN", "host:99999"),
        ("OPRIT_SIGNAL_URL", "127.0.0.1:8080"),
        ("OPRIT_SIGNAL_URL", "http://127.0.0.1:8080/api/v1/rpc"),
        ("OPRIT_SIGNAL_ACCOUNT", "0612345678"),
        ("OPRIT_SIGNAL_ACCOUNT", "+31 6 12345678"),
        ("OPRIT_SIGNAL_RATE", "0"),
        ("OPRIT_SIGNAL_RATE", "50"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message


def test_an_address_given_by_code_is_kept() -> None:
    """`oprit demo` builds its settings in code: an address object must not become unset."""
    address = ListenAddress("127.0.0.1", 18081)
    assert make_settings(web_listen=address).web_listen == address
    assert make_settings(web_listen="127.0.0.1:18082").web_listen == ListenAddress(
        "127.0.0.1", 18082
    )
    assert make_settings(web_listen=" ").web_listen is None
