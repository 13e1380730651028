"""A pytest plugin for docs/make_screens.py --before: saves the page when an old e2e test
checks one of issue 21's "before" screens with axe (those tests had no shot() helper)."""

from __future__ import annotations

import os

# The old tests' screen names (their assert_accessible label) -> the picture's file name.
SCREENS = {"evidence viewer": "desk-evidence", "follow-up desk": "desk-checkin-follow-ups"}


def pytest_configure(config):
    from tests.e2e import accessibility

    check = accessibility.assert_accessible

    def and_shot(page, screen, *args, **kwargs):
        name = SCREENS.get(screen)
        folder = os.environ.get("DOORSTEP_SCREENS_DIR")
        if name and folder:
            page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
        return check(page, screen, *args, **kwargs)

    accessibility.assert_accessible = and_shot
