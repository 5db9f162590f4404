# Copyright 2026 The nova-v2v Authors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Horizon in a real browser: Debian's Chromium, headless, by Selenium.

As Horizon's own integration tests drive it: ChromeDriver, real clicks on
the elements a user sees (a row's action menu opened before its item is
clicked, Horizon's themable selects and checkboxes by their visible
parts), the page's own messages read back. Every step can leave a
screenshot, numbered in the order taken.
"""

import os
import re
import time

from oslo_log import log as logging
from selenium.common import exceptions as se_exceptions
from selenium import webdriver
from selenium.webdriver.chrome import service as chrome_service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support import ui

LOG = logging.getLogger(__name__)

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
WINDOW = (1400, 1000)
TIMEOUT = 60


class BrowserError(Exception):
    """The page did not show what a step waits for."""


def options(binary=CHROMIUM, window=WINDOW):
    """Chromium's options: headless, no sandbox (root), a fixed window."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--no-first-run',
                '--window-size=%d,%d' % window):
        opts.add_argument(arg)
    return opts


def slug(text):
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:60]


class Browser(object):
    """One Chromium session on one Horizon.

    :param base: Horizon's URL (no trailing slash)
    :param shots: where screenshots go
    """

    # For callers that do not import this module (and Selenium) at load.
    Error = BrowserError

    def __init__(self, base, shots, binary=CHROMIUM, driver=CHROMEDRIVER,
                 timeout=TIMEOUT):
        self.base = base.rstrip('/')
        self.shots = shots
        self.binary = binary
        self.driver_path = driver
        self.timeout = timeout
        self.driver = None
        self.taken = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        os.makedirs(self.shots, exist_ok=True)
        self.driver = webdriver.Chrome(
            service=chrome_service.Service(self.driver_path),
            options=options(self.binary))
        self.driver.set_page_load_timeout(self.timeout)

    def close(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None

    # -- looking ------------------------------------------------------------

    def shot(self, name):
        """A screenshot of the window; its path."""
        path = os.path.join(self.shots, '%02d-%s.png' % (
            len(self.taken) + 1, slug(name)))
        self.driver.save_screenshot(path)
        self.taken.append(path)
        LOG.info('Screenshot %s', path)
        return path

    def wait(self, css, timeout=None, visible=True):
        """The first element ``css`` matches, once it shows.

        :raises: BrowserError past the timeout
        """
        cond = (ec.visibility_of_element_located if visible
                else ec.presence_of_element_located)
        try:
            return ui.WebDriverWait(
                self.driver, timeout or self.timeout).until(
                    cond((By.CSS_SELECTOR, css)))
        except se_exceptions.TimeoutException:
            raise BrowserError('%s did not show on %s in %d s' % (
                css, self.driver.current_url, timeout or self.timeout))

    def wait_gone(self, css, timeout=None):
        try:
            ui.WebDriverWait(self.driver, timeout or self.timeout).until(
                ec.invisibility_of_element_located((By.CSS_SELECTOR, css)))
        except se_exceptions.TimeoutException:
            raise BrowserError('%s still shows on %s after %d s' % (
                css, self.driver.current_url, timeout or self.timeout))

    def until(self, what, check, timeout=None, interval=0.5):
        """``check()``'s first true value; BrowserError past the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                got = check()
            except se_exceptions.StaleElementReferenceException:
                got = None
            if got:
                return got
            if time.monotonic() > deadline:
                raise BrowserError('%s: not seen in %d s on %s' % (
                    what, timeout or self.timeout, self.driver.current_url))
            time.sleep(interval)

    def find(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def messages(self):
        """The texts of the page's messages (Horizon's toasts and alerts).

        Their whole text: an error's details sit in a collapsed part, and
        a success fades out after a few seconds (still in the page).
        """
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'.messages .alert, .alert-danger, .alert-success, "
            ".alert-info')).map(function (e) {"
            "  return e.textContent.replace(/\\s+/g, ' ').trim(); })"
            ".filter(function (t) { return t; });")

    def errors(self):
        return [m for m in self.messages() if m.startswith('Error')]

    def page(self):
        """The page now shown (its root element), to wait for the next."""
        return self.driver.find_element(By.TAG_NAME, 'html')

    def wait_reload(self, old, timeout=None):
        """Until the page ``old`` was replaced (or a form error shows)."""
        def reloaded():
            try:
                old.tag_name
            except se_exceptions.StaleElementReferenceException:
                return True
            return bool(self.find('.modal.in .alert-danger, '
                                  '.modal.in .has-error'))
        self.until('the next page', reloaded, timeout=timeout)
        self.wait('body')

    # -- doing --------------------------------------------------------------

    def open(self, path):
        self.driver.get(self.base + path)

    def click(self, element):
        """A real click, the element scrolled into view first."""
        self.driver.execute_script(
            'arguments[0].scrollIntoView({block: "center"});', element)
        ui.WebDriverWait(self.driver, self.timeout).until(
            lambda _d: element.is_displayed() and element.is_enabled())
        element.click()

    def login(self, user, password):
        self.open('/auth/login/')
        self.wait('#id_username').send_keys(user)
        self.wait('#id_password').send_keys(password)
        self.shot('login')
        self.click(self.wait('#loginBtn, button[type=submit]'))
        self.until('the dashboard after logging in', lambda: (
            '/auth/login' not in self.driver.current_url and
            self.find('#navbar-collapse, .navbar')))

    def row(self, table, obj_id, timeout=None):
        return self.wait('tr#%s__row__%s' % (table, obj_id), timeout)

    def row_action(self, table, obj_id, action, timeout=None):
        """Click a row's action, opening its menu first when it is in it.

        Horizon redraws a row while its object changes state (its AJAX row
        update): the action is waited for, and the click tried again on
        the redrawn row.
        """
        css = '#%s__row_%s__action_%s' % (table, obj_id, action)

        def attempt():
            row = self.row(table, obj_id)
            found = row.find_elements(By.CSS_SELECTOR, css)
            if not found:
                return False
            if not found[0].is_displayed():
                self.click(row.find_element(By.CSS_SELECTOR,
                                            '.dropdown-toggle'))
            self.click(found[0])
            return True
        self.until('action %s on row %s of %s' % (action, obj_id, table),
                   attempt, timeout=timeout)

    def modal(self):
        """The open modal dialog, once its content (not "Loading") shows."""
        return self.wait('.modal.in:not(.loading) .modal-content, '
                         '.modal.show:not(.loading) .modal-content')

    def choose(self, field, value):
        """Pick ``value`` in a form's (themable) select ``field``."""
        select = self.wait('#id_%s' % field, visible=False)
        group = select.find_elements(By.XPATH, './ancestor::div[contains('
                                     '@class, "themable-select")][1]')
        if group:
            self.click(group[0].find_element(By.CSS_SELECTOR,
                                             '.dropdown-toggle'))
            option = group[0].find_element(
                By.CSS_SELECTOR, 'a[data-select-value="%s"]' % value)
            self.click(option)
        else:
            ui.Select(select).select_by_value(value)
        self.until('%s = %s' % (field, value), lambda: (
            select.get_attribute('value') == value))

    def tick(self, field, on=True):
        """Set a form's (themable) checkbox ``field``."""
        box = self.wait('#id_%s' % field, visible=False)
        if box.is_selected() != on:
            label = self.find('label[for=id_%s]' % field)
            self.click(label[0] if label and not box.is_displayed()
                       else box)
        self.until('%s ticked %s' % (field, on),
                   lambda: box.is_selected() == on)

    def submit_modal(self, wait=True, timeout=None):
        """Submit the open modal form; with ``wait``, until the next page.

        :returns: the page the form was on
        """
        old = self.page()
        modal = self.modal()
        self.click(modal.find_element(
            By.CSS_SELECTOR, '.modal-footer [type=submit], '
            '.modal-footer .btn-primary, .modal-footer .btn-danger'))
        if wait:
            self.wait_reload(old, timeout)
        return old

    def rows_data(self, css, attributes):
        """``[{attribute: value}]`` of the elements ``css`` matches.

        Read in one script: a table that its page refreshes can replace
        them between two calls.
        """
        return self.driver.execute_script(
            "var names = arguments[1];"
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".map(function (e) { var o = {}; names.forEach(function (n) {"
            " o[n] = e.getAttribute(n); }); return o; });",
            css, list(attributes))

    def new_tab(self, path):
        """Open ``path`` in a new tab; (its handle, the old tab's)."""
        old = self.driver.current_window_handle
        self.driver.switch_to.new_window('tab')
        self.open(path)
        return self.driver.current_window_handle, old

    def to_tab(self, handle):
        self.driver.switch_to.window(handle)
