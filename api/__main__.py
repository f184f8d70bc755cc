"""`python -m api [--host H] [--port P]`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from api.main import create_app
from config.logs import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    configure_logging(args.log_level)
    # the request telemetry writes one JSON line per request, with its id and route template
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
