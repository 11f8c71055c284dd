"""Odoo tours in Chromium; a step logging ``online_sync_screenshot <name>`` saves the page as <name>.png
in $ONLINE_SYNC_SCREENSHOTS, and the screen a tour ends on is saved as <tour>_end.png (no screenshot without it)."""
import base64
import os
from unittest.mock import patch

from odoo.tests import HttpCase
from odoo.tests.common import ChromeBrowser

SIGNAL = "online_sync_screenshot "


class TourCase(HttpCase):

    def setUp(self):
        super().setUp()
        self.screenshots = os.environ.get("ONLINE_SYNC_SCREENSHOTS")
        if not self.screenshots:
            return
        os.makedirs(self.screenshots, exist_ok=True)
        handle_console = ChromeBrowser._handle_console

        def handle_console_and_screenshots(browser, type, args=None, **kw):  # noqa: A002 - Chrome's name
            handle_console(browser, type, args, **kw)
            message = str(browser._from_remoteobject(args[0])) if args else ""
            if message.startswith(SIGNAL):
                name = message.removeprefix(SIGNAL)
                self.capture(browser).add_done_callback(lambda done: self.save(name, done.result(timeout=0)))

        self.patch(ChromeBrowser, "_handle_console", handle_console_and_screenshots)

    @staticmethod
    def capture(browser):
        """Ask Chromium for the page as it is now: a future of the screenshot ``save`` takes."""
        return browser._websocket_send("Page.captureScreenshot", with_future=True)

    def save(self, name, capture):
        if capture.get("data"):
            path = os.path.join(self.screenshots, "".join(c for c in name if c.isalnum() or c == "_") + ".png")
            with open(path, "wb") as file:
                file.write(base64.b64decode(capture["data"]))

    def start_tour(self, url_path, tour_name, **kwargs):
        if not self.screenshots:
            return super().start_tour(url_path, tour_name, **kwargs)
        stop = ChromeBrowser.stop

        def screenshot_then_stop(browser):
            if browser.ws:
                self.save(f"{tour_name}_end", self.capture(browser).result(timeout=10))
            stop(browser)

        with patch.object(ChromeBrowser, "stop", screenshot_then_stop):
            return super().start_tour(url_path, tour_name, **kwargs)
