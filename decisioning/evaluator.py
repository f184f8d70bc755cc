"""One zen-engine per process, serving the graphs of every loaded policy from memory.

The engine's loader hands out content parsed once at load time (`ZenDecisionContent`), so an
evaluation never touches the disk. The active policy changes only after its replacement has
loaded and passed every check: a refused policy leaves the running one serving.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import zen

from decisioning.loader import Policy, PolicyLoadError, load_policy

log = logging.getLogger(__name__)


class PolicyEvaluationError(RuntimeError):
    """A loaded policy produced something the decision cannot use (a policy bug, not input)."""


class PolicyEvaluator:
    def __init__(self, active: Policy | Path | str) -> None:
        self._content: dict[str, zen.ZenDecisionContent] = {}
        self._lock = threading.Lock()
        self._zen = zen.ZenEngine({"loader": self._load})
        self._active = active if isinstance(active, Policy) else load_policy(active)
        self.register(self._active)

    @property
    def active(self) -> Policy:
        return self._active

    def _load(self, key: str) -> zen.ZenDecisionContent:
        return self._content[key]

    def register(self, policy: Policy) -> Policy:
        """Make a loaded policy's graphs evaluable (the active one, or a replay candidate)."""
        parsed = {
            f"{policy.hash}/{graph}": zen.ZenDecisionContent(json.dumps(content))
            for graph, content in policy.graphs.items()
        }
        with self._lock:
            self._content.update(parsed)
        return policy

    def load(self, path: Path | str) -> Policy:
        return self.register(load_policy(path))

    def activate(self, path: Path | str) -> Policy:
        """Switch to the policy at `path`; on PolicyLoadError the current one keeps serving."""
        try:
            policy = self.load(path)
        except PolicyLoadError:
            log.error("policy at %s refused; %s keeps serving", path, self._active.version)
            raise
        self._active = policy
        log.info("policy %s (%s) active", policy.version, policy.hash[:12])
        return policy

    def evaluate(self, policy: Policy, graph: str, context: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._zen.evaluate(f"{policy.hash}/{graph}", context)
        except Exception as exc:
            raise _failure(policy, graph, exc) from None
        return dict(response["result"])

    async def evaluate_async(
        self, policy: Policy, graph: str, context: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await self._zen.async_evaluate(f"{policy.hash}/{graph}", context)
        except Exception as exc:
            raise _failure(policy, graph, exc) from None
        return dict(response["result"])


def _failure(policy: Policy, graph: str, exc: Exception) -> PolicyEvaluationError:
    # zen appends a Rust backtrace when RUST_BACKTRACE is set: keep the first line only.
    detail = str(exc).split("\n", 1)[0]
    return PolicyEvaluationError(f"policy {policy.version} graph {graph}: {detail}")
