"""axe-core (WCAG 2.0/2.1 A and AA) over the page as it is now; one helper for every e2e test.

axe is vendored for the tests only (tests/e2e/vendor/axe.min.js, version pinned in
pwa/package.json "devDependencies"); the app never serves it.
"""

from __future__ import annotations

from pathlib import Path

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """The page's violations of WCAG 2.1 A/AA, each with its rule id and up to 5 targets."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # A string evaluated by Playwright runs through the DevTools protocol, which the
        # page's CSP does not govern (a <script> tag would be refused by script-src 'self').
        page.evaluate(AXE + "\n;0")
    return page.evaluate("""async (tags) => {
        const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}));
    }""", WCAG_AA)


def assert_accessible(page, screen: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{screen}: {violations}"
