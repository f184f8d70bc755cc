"""Every typed activity call of the workflows (`workflows/calls.py`) agrees with the activity
registered under its name: the same input type and the same result type, so a call that mypy
accepts is a call the worker can serve."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from temporalio import activity

import activities
from domain.naming import ActivityName
from workflows import calls


def registered() -> dict[str, activity._Definition]:
    found: dict[str, activity._Definition] = {}
    for info in pkgutil.iter_modules(activities.__path__):
        module = importlib.import_module(f"activities.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for _, fn in inspect.getmembers(cls, inspect.isfunction):
                defn = activity._Definition.from_callable(fn)
                if defn is not None and defn.name:
                    found[defn.name] = defn
    return found


REGISTERED = registered()
CALLS = {c.name: c for c in vars(calls).values() if isinstance(c, calls.ActivityCall)}


def test_every_activity_has_one_typed_call() -> None:
    names = {v for k, v in vars(ActivityName).items() if k.isupper()}
    assert set(CALLS) == names == set(REGISTERED)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_call_types_match_the_registered_activity(name: str) -> None:
    call, defn = CALLS[name], REGISTERED[name]
    assert defn.arg_types == [call.input]
    assert (defn.ret_type or type(None)) is call.result
