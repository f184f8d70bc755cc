"""The API fixtures of `test_api` (settings, a dev server with the stand-in workflows, the ASGI
client) shared by the other API test modules; each module gets its own, being module-scoped."""

from tests.api.test_api import api, settings, temporal  # noqa: F401
