"""One httpx client per outside party; no Temporal."""
