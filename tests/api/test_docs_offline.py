"""/docs and /redoc of the API and of the simulators load every asset from the app itself: a
machine without internet shows the pages (issue 10)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from mocks.app import create_app as create_mocks_app
from tests.api.test_api import make_settings


def _apps(tmp_path: Path) -> dict[str, object]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    return {"api": create_app(settings), "mocks": create_mocks_app()}


@pytest.mark.parametrize("which", ["api", "mocks"])
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_local_assets(tmp_path: Path, which: str, page: str):
    app = _apps(tmp_path)[which]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        html = (await client.get(page)).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert urls, html
        assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
        for url in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
