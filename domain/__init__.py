"""Pure business contracts and logic shared by the API, workflows and activities (no I/O)."""
