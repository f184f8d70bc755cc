"""Developer tooling: run the stack natively, drive the demo."""
