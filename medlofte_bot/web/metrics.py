"""What /metrics says, in Prometheus' text format, from one registry per app.

Counters are fed by small observers the composition root wires (the update processor's
``on_finished``, the sender's ``observe``); the 429s are read from the rate limiter's own
counts, and the due reminders and open updates are counted by a service when scraped.
Nothing outside this module imports prometheus_client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from telegram import Update

from medlofte_bot.chat.updates import Verdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# answers take 10-100 ms on loopback; a paced reply to a busy chat waits ~1 s
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Waiting:
    """What is waiting right now: due reminders not yet claimed, updates not yet done."""

    reminders_due: int
    updates_open: int


def update_kind(update: object) -> str:
    """The kind of an update for counting: "command" for a message that starts with one,
    else Telegram's field name ("message", "edited_message", "callback_query", ...)."""
    if not isinstance(update, Update):
        return "other"
    message = update.message
    if message is not None and message.text and message.text.startswith("/"):
        return "command"
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return str(kind)
    return "other"


class _AtScrape(Collector):
    """Figures read when scraped: the rate limiter's 429s, and what is waiting."""

    def __init__(self, limiter_stats: Mapping[str, int] | None,
                 waiting: Callable[[], Waiting] | None) -> None:
        self._stats = limiter_stats
        self._waiting = waiting

    def collect(self) -> Iterator[Metric]:
        """One sample per figure."""
        if self._stats is not None:
            yield CounterMetricFamily("medlofte_telegram_429",
                                      "429 answers from Telegram (each waited out)",
                                      value=self._stats.get("retry_after", 0))
            yield CounterMetricFamily("medlofte_telegram_429_given_up",
                                      "sends that were still 429 after the retries",
                                      value=self._stats.get("gave_up", 0))
        if self._waiting is not None:
            now = self._waiting()
            yield GaugeMetricFamily("medlofte_reminders_due",
                                    "reminders due and not yet claimed",
                                    value=now.reminders_due)
            yield GaugeMetricFamily("medlofte_updates_open",
                                    "updates accepted by the webhook and not yet handled",
                                    value=now.updates_open)

    def describe(self) -> Iterator[Metric]:
        """Nothing described ahead: describing would call ``collect`` (a query) at start."""
        return iter(())


class BotMetrics:
    """The process's metrics in their own CollectorRegistry (never the global one)."""

    def __init__(self, limiter_stats: Mapping[str, int] | None = None,
                 waiting: Callable[[], Waiting] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("medlofte_updates", "updates whose handlers ran, by kind",
                               ["kind"], registry=self.registry)
        self.dropped = Counter("medlofte_updates_dropped",
                               "updates dropped before any handler (repeat, flood)",
                               ["reason"], registry=self.registry)
        self.reminders = Counter("medlofte_reminders",
                                 "outbox messages by what Telegram's answer meant",
                                 ["outcome"], registry=self.registry)
        self.reply_seconds = Histogram("medlofte_reply_seconds",
                                       "from an update's arrival to its handlers' end",
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.posts = Counter("medlofte_webhook_posts",
                             "posts to the webhook: new, repeat (already accepted), "
                             "forbidden (secret), invalid, unavailable (database)",
                             ["result"], registry=self.registry)
        self.registry.register(_AtScrape(limiter_stats, waiting))

    def update_finished(self, update: object, verdict: Verdict, seconds: float) -> None:
        """Count an update the processor dealt with; time it when its handlers ran."""
        if verdict is Verdict.RUN:
            self.updates.labels(update_kind(update)).inc()
            self.reply_seconds.observe(max(seconds, 0.0))
        else:
            self.dropped.labels(verdict.value).inc()

    def webhook_post(self, result: str) -> None:
        """Count one post to the webhook by what came of it."""
        self.posts.labels(result).inc()

    def delivered(self, outcome: str) -> None:
        """Count one outbox message by outcome (sent, retry, blocked, chat_gone, too_long)."""
        self.reminders.labels(str(outcome)).inc()

    def render(self) -> bytes:
        """The text format; runs the scrape-time queries (call it in a worker thread)."""
        return generate_latest(self.registry)
