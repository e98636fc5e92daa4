"""Prometheus metrics: what an operator needs to see that nothing is stuck or lost.

Counters are updated where things happen; the database gauges (outbox depth, oldest
due row, unacknowledged alerts, broadcast progress) are refreshed by the scheduler tick,
so a scrape never waits on the database.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """One registry per runtime (bot.runtime.Runtime.metrics)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates_received = Counter(
            "oprit_updates_received", "Updates stored in the inbox", registry=self.registry
        )
        self.updates_processed = Counter(
            "oprit_updates_processed",
            "Updates handled, by result",
            ["result"],
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "oprit_update_processing_seconds",
            "Time to handle one update (one transaction)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.sends = Counter(
            "oprit_sends", "Bot API sends by outcome", ["result", "kind"], registry=self.registry
        )
        self.alerts = Counter(
            "oprit_alerts", "Alerts raised, by severity", ["severity"], registry=self.registry
        )
        self.webhook_refused = Counter(
            "oprit_webhook_refused",
            "Webhook requests refused (wrong or missing secret, bad body)",
            ["reason"],
            registry=self.registry,
        )
        self.undecryptable = Counter(
            "oprit_undecryptable",
            "Stored rows the configured keys cannot decrypt, set aside (never wiped)",
            ["table"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "oprit_outbox_due", "Outbox rows due and not yet sent", registry=self.registry
        )
        self.outbox_oldest_seconds = Gauge(
            "oprit_outbox_oldest_due_seconds",
            "Age of the oldest due outbox row",
            registry=self.registry,
        )
        self.unacknowledged_alerts = Gauge(
            "oprit_alerts_unacknowledged", "Open alerts nobody acknowledged", registry=self.registry
        )
        self.broadcast_pending = Gauge(
            "oprit_broadcast_pending",
            "Broadcast deliveries still to send",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
