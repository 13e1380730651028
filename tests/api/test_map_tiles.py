"""The evidence map's tile server is a setting: it reaches the page and CSP img-src; with
none (the default) the page names no tile host and img-src stays 'self' blob: data:."""

from __future__ import annotations

import re

from backend.web.hooks import tile_origin


def _img_src(response) -> str:
    return next(p.strip() for p in response.headers["Content-Security-Policy"].split(";")
                if p.strip().startswith("img-src"))


def test_tile_origin_of_a_template():
    assert tile_origin("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}&tk=K") == \
        "https://*.tianditu.gov.cn"
    assert tile_origin("https://tiles.example.cn:8443/{z}/{x}/{y}.png") == \
        "https://tiles.example.cn:8443"
    assert tile_origin("") is None
    assert tile_origin(None) is None
    assert tile_origin("javascript:alert(1)") is None
    assert tile_origin("https://bad host/{z}") is None


def test_no_tile_server_by_default(client):
    response = client.get("/")
    assert _img_src(response) == "img-src 'self' blob: data:"
    assert re.search(rb'<meta name="doorstep-map-tiles" content="">', response.data)


def test_a_tile_server_reaches_the_page_and_the_csp(app, client):
    old = dict(app.config)
    app.config["MAP_TILE_URL"] = "https://t{s}.tiles.example.cn/{z}/{x}/{y}.png?tk=abc"
    app.config["MAP_TILE_ATTRIBUTION"] = "© 省级地图服务"
    try:
        response = client.get("/")
        assert _img_src(response) == "img-src 'self' blob: data: https://*.tiles.example.cn"
        page = response.get_data(as_text=True)
        assert 'content="https://t{s}.tiles.example.cn/{z}/{x}/{y}.png?tk=abc"' in page
        assert "© 省级地图服务" in page
        api = client.get("/api/me")
        assert "tiles.example.cn" in api.headers["Content-Security-Policy"]
    finally:
        app.config["MAP_TILE_URL"] = old.get("MAP_TILE_URL", "")
        app.config["MAP_TILE_ATTRIBUTION"] = old.get("MAP_TILE_ATTRIBUTION", "")
