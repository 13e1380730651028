import pytest
pytestmark = pytest.mark.e2e
def test_dbg(page, sign_in):
    logs=[]
    page.on("console", lambda m: logs.append(m.text))
    sign_in(page, "wenping_fw1")
    page.click("#nav-settings")
    page.wait_for_timeout(2000)
    print("VIEW", page.get_attribute("#main","data-view"), page.evaluate("location.hash"))
    print(page.inner_text("#main")[:300]); print(logs[-5:]); print(page.js_errors)
