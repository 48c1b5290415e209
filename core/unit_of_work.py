"""One unit of work per boundary: a request, a webhook, a CLI command, a job.

Services add and flush; the boundary commits once (indico's `RH.process`). `init_app` wraps every
view function of the app in `transactional`, so no view commits or rolls back by hand; CLI commands
and jobs use `@transactional` themselves. The rules:

- **Commit** once, when the handler returns a response with status < 400 (a redirect after a
  refused step counts as success: roll that step back with `rollback_now`, see below), or when a
  CLI command / job returns normally. Then the `after_commit` callbacks run, in order.
- **Roll back** when the handler raises (any exception; a `DomainError` is then answered by
  core/errors.py as problem+json or the error page, with nothing written) or returns a status
  >= 400 (a form shown again with its errors, a 4xx problem). Queued callbacks are dropped.
- `commit_before_refusal()`: the one way to keep something although the answer is a refusal. A
  wrong password or PIN must be counted before the 401/403/429 goes out (accounts/throttle.py), so
  the handler commits what it did so far, then refuses; anything after it rolls back as usual.
- `commit_now()`: commit in the middle of a handler, ONLY where an external side effect must follow
  a commit — a refund claimed before Stripe is called, Stripe's answer kept at once so a retry never
  refunds twice, a merged cart before the reply drops the guest-cart cookie. The unit then carries
  on in a new transaction and still commits (or rolls back) at the end.
- `rollback_now()`: discard everything the unit did so far, at once, for a handler that answers a
  refused step itself (a flash and a redirect); the unit then commits nothing unless asked again.
  `refusals_flashed()` is that pattern as a context manager.
- `after_commit(callback)`: work that must happen only once the data is saved (e-mail, notices).
  Callbacks run outside the transaction: they must not write to the database.

Nested units (a transactional function called from another) join the outer one.

**Read-only requests** (GET, HEAD, OPTIONS) do not take SQLite's write lock: `may_write` tells the
engine's begin hook (core/db.py) to begin them deferred, so a page view never queues behind a
sale. A view that writes on GET anyway is marked `@writes`; its transactions begin IMMEDIATE like
every POST, CLI command and job. (An unmarked GET that writes stays correct: its deferred
transaction upgrades to a write lock, or fails with "database is locked" under contention; it
never loses an update.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app, flash, g, has_request_context, request

from core.errors import DomainError, ValidationFailed
from core.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

#: request methods that only read: their transactions begin without SQLite's write lock
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _Unit:
    callbacks: list[Callable[[], Any]] = field(default_factory=list)
    #: rolled back by `rollback_now`: nothing more is committed unless `commit_now` is called
    discarded: bool = False


def _unit() -> _Unit | None:
    return g.get("_unit_of_work")


def transactional(func: F) -> F:
    """Run `func` as one unit of work (see the module docstring for the rules)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if _unit() is not None:  # joined: the outer unit decides
            return func(*args, **kwargs)
        unit = g._unit_of_work = _Unit()
        try:
            try:
                result = func(*args, **kwargs)
                if has_request_context():
                    result = current_app.make_response(result)
                    succeeded = result.status_code < 400
                else:
                    succeeded = True
            except BaseException:
                db.session.rollback()
                raise
            if not succeeded or unit.discarded:
                db.session.rollback()
                return result
            try:
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
        finally:
            g.pop("_unit_of_work", None)
        for callback in unit.callbacks:
            try:
                callback()
            except Exception:
                # The change is committed: a failed side effect (a mail file, say) must not turn the
                # answer into "nothing was saved"; it is logged for staff instead.
                current_app.logger.exception("after-commit callback failed")
        return result

    run.__unit_of_work__ = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


def writes(func: F) -> F:
    """Mark a view that writes although it answers GET: its transactions take the write lock."""
    func.__writes_on_read__ = True  # type: ignore[attr-defined]
    return func


def may_write() -> bool:
    """Whether a transaction beginning now may write (False: it only reads; see the module docstring).

    True outside a request (CLI commands, jobs, shells, tests) and for every request method but
    GET/HEAD/OPTIONS; for those, True only if the matched view is marked `@writes` (or no view
    matched).
    """
    if not has_request_context() or request.method not in READ_ONLY_METHODS or request.endpoint is None:
        return True  # an unmatched URL (or a bare test request context) runs no view: no promise made
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, "__writes_on_read__", False))


def after_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` once the unit has committed; never if it rolls back.

    Outside a unit (a shell, a test calling a service) there is nothing to wait for: it runs now.
    """
    unit = _unit()
    if unit is None:
        callback()
    else:
        unit.callbacks.append(callback)


def commit_now() -> None:
    """Commit mid-handler because an external side effect (a Stripe call) must follow a commit."""
    db.session.commit()
    unit = _unit()
    if unit is not None:
        unit.discarded = False


def commit_before_refusal() -> None:
    """Keep what the handler did so far (a counted failed attempt) although it answers a refusal."""
    db.session.commit()
    unit = _unit()
    if unit is not None:
        unit.discarded = False


def rollback_now() -> None:
    """Discard everything this unit did so far; queued after-commit callbacks are dropped."""
    db.session.rollback()
    unit = _unit()
    if unit is not None:
        unit.callbacks.clear()
        unit.discarded = True


@contextmanager
def refusals_flashed(*kinds: type[DomainError], per_field: bool = False) -> Iterator[None]:
    """A refused step answered with a flash instead of an error page: on a `DomainError` (or only
    the given `kinds`) inside the block, roll the unit back now and flash the message (each field's
    message with `per_field`); the handler goes on to its redirect."""
    caught: tuple[type[DomainError], ...] = kinds or (DomainError,)
    try:
        yield
    except caught as error:
        rollback_now()
        messages = error.errors.values() if per_field and isinstance(error, ValidationFailed) else [error.detail]
        for message in messages:
            flash(message, "error")


def init_app(app: Flask) -> None:
    """Make every view function of the app one unit of work (call after the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "__unit_of_work__", False):
            app.view_functions[endpoint] = transactional(view)
