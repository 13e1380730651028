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


# A slug on a Chinese screen: lowercase Latin words joined by _ or - (has_issues,
# stamp-far-from-home, confirmed_on_site), or a server sentence in English (issue 21).
_SLUG = r"(?<![\w./#-])[a-z]+(?:[_-][a-z]+)+(?![\w./-])"
_ENGLISH = r"\b(?:[A-Za-z]{2,}\s+){3,}[A-Za-z]{2,}\b"


def slugs_on(page, selector: str = "body") -> list[str]:
    """Slugs and English phrases (four words or more) in what a person reads of a Chinese
    page: its visible text plus alt, aria-label and title attributes."""
    import re

    text = page.evaluate("""(selector) => {
        const root = document.querySelector(selector) ?? document.body;
        const labels = [...root.querySelectorAll('[alt], [aria-label], [title]')].flatMap(
            (el) => ['alt', 'aria-label', 'title'].map((a) => el.getAttribute(a) ?? ''));
        return [root.innerText, ...labels].join('\\n');
    }""", selector)
    return sorted(set(re.findall(_SLUG, text)) | set(re.findall(_ENGLISH, text)))


def assert_no_slugs(page, screen: str, selector: str = "body") -> None:
    """Every word a person reads on a Chinese screen comes from the language files or the
    form's labels, never a slug, a raw key or the server's English."""
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN", screen
    found = slugs_on(page, selector)
    assert found == [], f"{screen}: {found}"


def shot(page, name: str) -> None:
    """Save the page as docs/screens/<name>.png when docs/make_screens.py runs the e2e
    tests (DOORSTEP_SCREENS_DIR set); otherwise nothing."""
    import os

    folder = os.environ.get("DOORSTEP_SCREENS_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
