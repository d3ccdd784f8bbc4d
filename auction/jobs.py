"""Scheduled work: APScheduler 3 on the server's event loop, each job a service call in a thread.

Every job asks the database what is due and does it, so running it twice, late, or in two
processes at once is harmless, and each job runs once right at start-up to catch up on
whatever fell due while the process was down. Correctness never depends on a job being on
time: a bid after `ends_at` is refused by the bid transaction itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from flask import Flask

from auction.bot.runtime import bot_runtime
from auction.services import (
    analytics,
    email,
    lifecycle,
    payments,
    push,
    saved_searches,
    subscriptions,
    uploads,
    view_counts,
    watchlist,
)

log = logging.getLogger("auction.jobs")


def reconcile_refunds() -> list[int]:
    """Settle refunds whose answer was lost against Telegram's getStarTransactions; returns the payments settled.

    Does nothing while the bot is not running (the next run catches up).
    """
    runtime = bot_runtime()
    if not runtime.running or not payments.pending_refund_ids():
        return []
    result = payments.reconcile_refunds(runtime.star_transactions)
    return result.refunded + result.not_refunded


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]
    every_seconds: int
    # Work on this process's own memory: runs in every process, even one whose scheduler is off
    # (SCHEDULER_ENABLED=0, not the leader), and once more when the process stops.
    per_process: bool = False


# Other areas append their jobs here (reminders, expiries); each must be idempotent.
JOBS: list[Job] = [
    Job("open_scheduled_auctions", lifecycle.open_scheduled_auctions, every_seconds=10),
    # Every second: the close and each Dutch price drop should reach open pages within about a second.
    Job("close_due_auctions", lifecycle.close_due_auctions, every_seconds=1),
    Job("announce_dutch_steps", lifecycle.announce_dutch_steps, every_seconds=1),
    Job("expire_stale_purchases", payments.expire_stale_purchases, every_seconds=600),
    Job("remind_ending_soon", watchlist.remind_ending_soon, every_seconds=30),
    Job("alert_saved_searches", saved_searches.alert_saved_searches, every_seconds=60),
    Job("send_due_emails", email.send_due_emails, every_seconds=5),
    # Photos kept for listing forms that were never sent again, once their tokens expired.
    Job("discard_expired_uploads", uploads.discard_expired_uploads, every_seconds=600),
    Job("premium_expiry", subscriptions.run_expiry, every_seconds=300),
    Job("send_due_pushes", push.send_due_pushes, every_seconds=5),
    # Page views counted in memory reach the sellers' statistics once a minute (services/view_counts.py).
    Job("flush_views", view_counts.flush_views, every_seconds=60, per_process=True),
    Job("reconcile_refunds", reconcile_refunds, every_seconds=300),
    # The analytics report's per-day totals of complete days (services/analytics.py roll_up).
    Job("roll_up_analytics", analytics.roll_up, every_seconds=600),
]


class JobRunner:
    """Runs jobs in worker threads inside an app context and lets shutdown wait for them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.running: set[asyncio.Future] = set()

    async def run(self, job: Job) -> None:
        work = asyncio.ensure_future(asyncio.to_thread(self._run, job))
        self.running.add(work)
        work.add_done_callback(self.running.discard)
        try:
            # Shielded: stopping the scheduler must not abandon a transaction half-way.
            await asyncio.shield(work)
        except asyncio.CancelledError:
            return  # the scheduler is stopping; the runtime's drain() waits for `work` to finish

    def _run(self, job: Job) -> None:
        with self.app.app_context():
            try:
                result = job.run()
            except Exception:
                log.exception("job %s failed; it runs again in %d s", job.name, job.every_seconds)
                return
            if result:
                log.info("job %s: %s", job.name, result if not isinstance(result, list) else f"{len(result)} done")

    async def drain(self, timeout: float = 30) -> None:
        """Wait for jobs in flight to finish their transactions, then run the per-process jobs once more."""
        if self.running:
            await asyncio.wait(set(self.running), timeout=timeout)
        for job in JOBS:
            if job.per_process:
                await asyncio.wait_for(asyncio.to_thread(self._run, job), timeout=timeout)


def register_jobs(scheduler: AsyncIOScheduler, app: Flask, per_process_only: bool = False) -> JobRunner:
    """Add every job (or only the per-process ones) to `scheduler`, each first due now (the catch-up run); returns the runner."""
    runner = JobRunner(app)
    now = datetime.now(UTC)
    for job in JOBS:
        if per_process_only and not job.per_process:
            continue
        scheduler.add_job(
            runner.run,
            "interval",
            args=[job],
            seconds=job.every_seconds,
            id=job.name,
            name=job.name,
            next_run_time=now,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            replace_existing=True,
        )
    return runner


def create_scheduler(app: Flask, per_process_only: bool = False) -> tuple[AsyncIOScheduler, JobRunner]:
    """A scheduler for the running event loop with the app's jobs (or only the per-process ones) registered, not yet started."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    return scheduler, register_jobs(scheduler, app, per_process_only)
