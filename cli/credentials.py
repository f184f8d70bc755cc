"""The signed-in session of the command line: a user file readable by its owner only."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

PATH_ENV = "LOANFLOW_CLI_CREDENTIALS"


def credentials_path() -> Path:
    configured = os.environ.get(PATH_ENV)
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "loanflow" / "credentials.json"


@dataclass(frozen=True)
class Session:
    api_url: str
    access_token: str
    username: str
    role: str
    expires_at: str


def load() -> Session | None:
    path = credentials_path()
    try:
        return Session(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def save(session: Session) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created with owner-only permissions before the token is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(session), out)
    os.chmod(path, 0o600)
    return path


def forget() -> bool:
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True
