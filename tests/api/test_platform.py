"""Health check, OpenAPI document, interactive docs and the app shell."""


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "reachable"


def test_openapi_document_lists_the_api(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/auth/login", "/api/cases", "/api/cases/{case_id}", "/api/households"):
        assert path in spec["paths"]


def test_docs_page_is_served_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "swagger-ui" in page
    script = client.get("/static/js/api-docs.js")
    assert "/api/openapi.json" in script.get_data(as_text=True)
    script.close()
    assert "https://" not in page and "http://" not in page.replace("http://127.0.0.1", "")


def test_app_shell_and_service_worker(client):
    shell = client.get("/")
    assert shell.status_code == 200
    assert 'lang="zh-CN"' in shell.get_data(as_text=True)
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Cache-Control"] == "no-cache"
