"""Run the example contact center: `python -m examples.contact_center --port 8080` (127.0.0.1 only)."""

from __future__ import annotations

import argparse

from examples.contact_center.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.contact_center",
        description="Serve POST /api/handoffs, GET /api/handoffs and GET /health on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    # Loopback only: this stands in for a vendor endpoint in tests, it is not a production server.
    create_app().run(host="127.0.0.1", port=args.port, debug=False)


if __name__ == "__main__":
    main()
