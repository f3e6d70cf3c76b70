#!/usr/bin/env python3
"""Drive the captive-portal page in a real headless Chromium, as a user on a phone would.

Starts chromedriver (Debian package ``chromium-driver``; the browser is ``chromium``), opens the
portal URL, waits for the form, types the SSID and password, clicks Connect and waits until
``#status`` says ``connected`` (its ``data-state`` is ``connected``) or ``failed``.

Usage::

    portal_browser.py --url http://127.0.0.1:PORT/ --ssid S --password P \
        [--timeout 60] [--screenshot FILE]

Prints one JSON line on stdout, e.g.
``{"ok": true, "state": "connected", "status": "connected (10.1.2.3)", ...}``; diagnostics go to
stderr. Exit status: 0 connected, 1 the page did not reach ``connected`` (failed state, timeout,
missing element), 2 setup error (missing binaries, chromedriver or the browser would not start,
interrupted). ``--timeout`` bounds the whole run. chromedriver and every browser process are
killed on exit, whatever happens.

Standard library only (urllib + json): the W3C WebDriver protocol over HTTP.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # W3C WebDriver web element identifier
POLL_SECONDS = 0.2


class SetupError(Exception):
    """The browser machinery could not be started (exit status 2)."""


class PageError(Exception):
    """The page did not behave (exit status 1)."""


class WebDriverError(Exception):
    """An error answer from chromedriver."""

    def __init__(self, error, message):
        super().__init__("%s: %s" % (error, message))
        self.error = error


class Interrupted(BaseException):
    """SIGTERM/SIGINT: clean up and leave."""


def log(message):
    print("portal_browser: " + message, file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return self.left() <= 0


class WebDriver:
    """The few W3C WebDriver commands the portal check needs."""

    def __init__(self, port, deadline):
        self.base = "http://127.0.0.1:%d" % port
        # Every command may take as long as the whole run has left: under TCG on a loaded host a
        # click or a property read can take tens of seconds, and that is slow, not failed.
        self.deadline = deadline
        # Never send loopback traffic through a proxy from the environment.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.session = None

    def call(self, method, path, body=None, timeout=None):
        if timeout is None:
            timeout = self.deadline.left()
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with self.opener.open(request, timeout=max(timeout, 0.5)) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                value = json.loads(error.read()).get("value", {})
            except ValueError:
                value = {}
            raise WebDriverError(value.get("error", "http %d" % error.code),
                                 value.get("message", "")[:300]) from None
        return answer.get("value")

    def session_call(self, method, path, body=None, timeout=None):
        return self.call(method, "/session/%s%s" % (self.session, path), body, timeout)

    def find(self, selector):
        value = self.session_call("POST", "/element", {"using": "css selector", "value": selector})
        return value[ELEMENT_KEY]

    def wait_for(self, selector, deadline):
        while True:
            try:
                return self.find(selector)
            except WebDriverError as error:
                if error.error != "no such element" or deadline.expired():
                    raise PageError("element %s not found: %s" % (selector, error)) from None
            time.sleep(POLL_SECONDS)

    def type_into(self, element, text):
        self.session_call("POST", "/element/%s/clear" % element, {})
        if text:
            self.session_call("POST", "/element/%s/value" % element, {"text": text})
        return self.session_call("GET", "/element/%s/property/value" % element)

    def text(self, element):
        return self.session_call("GET", "/element/%s/text" % element)

    def attribute(self, element, name):
        return self.session_call("GET", "/element/%s/attribute/%s" % (element, name))

    def screenshot(self, path):
        png = base64.b64decode(self.session_call("GET", "/screenshot", timeout=20.0))
        with open(path, "wb") as file:
            file.write(png)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_mentioning(marker):
    """PIDs whose command line contains marker (our private profile directory)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as file:
                if marker.encode() in file.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def stop_processes(driver_process, profile):
    """Kills chromedriver's process group, then any browser process using our profile."""
    if driver_process is not None and driver_process.poll() is None:
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            try:
                os.killpg(driver_process.pid, sig)
            except ProcessLookupError:
                break
            try:
                driver_process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    if driver_process is not None:
        try:
            os.killpg(driver_process.pid, signal.SIGKILL)  # browser children left in the group
        except (ProcessLookupError, PermissionError):
            pass
    if profile:
        for pid in processes_mentioning(profile):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def run(args, result):
    deadline = Deadline(args.timeout)
    for binary, package in ((args.chromedriver, "chromium-driver"), (args.chromium, "chromium")):
        if not os.access(binary, os.X_OK):
            raise SetupError("%s is missing: apt-get install -y --no-install-recommends "
                             "chromium chromium-driver (package %s)" % (binary, package))
    profile = tempfile.mkdtemp(prefix="portal-browser-")
    result["_profile"] = profile
    port = free_port()
    log_path = args.driver_log or os.path.join(profile, "chromedriver.log")
    result["_log"] = log_path
    driver_process = subprocess.Popen(
        [args.chromedriver, "--port=%d" % port, "--log-path=%s" % log_path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    result["_process"] = driver_process
    driver = WebDriver(port, deadline)
    result["_driver"] = driver

    while True:
        if driver_process.poll() is not None:
            raise SetupError("chromedriver exited with status %d" % driver_process.returncode)
        try:
            if (driver.call("GET", "/status", timeout=1.0) or {}).get("ready"):
                break
        except (OSError, WebDriverError, ValueError):
            pass
        if deadline.expired():
            raise SetupError("chromedriver did not become ready")
        time.sleep(POLL_SECONDS)

    browser_args = [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-proxy-server", "--window-size=412,915", "--user-data-dir=" + os.path.join(profile, "data"),
    ] + os.environ.get("PORTAL_BROWSER_ARGS", "").split()
    capabilities = {"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"implicit": 0, "pageLoad": int(max(deadline.left(), 1) * 1000), "script": 10000},
        "goog:chromeOptions": {"binary": args.chromium, "args": browser_args},
    }}}
    try:
        created = driver.call("POST", "/session", capabilities)
    except (OSError, WebDriverError) as error:
        raise SetupError("the browser did not start: %s" % error) from None
    driver.session = created["sessionId"]
    result["browser"] = created.get("capabilities", {}).get("browserVersion")

    try:
        driver.session_call("POST", "/url", {"url": args.url})
    except (OSError, WebDriverError) as error:
        raise PageError("could not open %s: %s" % (args.url, error)) from None
    ssid = driver.wait_for("#ssid", deadline)
    password = driver.wait_for("#password", deadline)
    connect = driver.wait_for("#connect", deadline)
    status = driver.wait_for("#status", deadline)
    result["title"] = driver.session_call("GET", "/title")

    typed = driver.type_into(ssid, args.ssid)
    if typed != args.ssid:
        raise PageError("the SSID field holds %r, not %r" % (typed, args.ssid))
    typed = driver.type_into(password, args.password)
    if typed != args.password:
        raise PageError("the password field holds %d characters, not %d"
                        % (len(typed or ""), len(args.password)))
    driver.session_call("POST", "/element/%s/click" % connect, {})
    log("submitted; waiting for #status")

    state = text = None
    while True:
        state = driver.attribute(status, "data-state")
        text = driver.text(status)
        result["state"], result["status"] = state, text
        if state == "connected" and (text or "").startswith("connected"):
            return
        if state == "failed":
            raise PageError("the page reports %r" % text)
        if deadline.expired():
            raise PageError("no 'connected' within %ss (status %r)" % (args.timeout, text))
        time.sleep(POLL_SECONDS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the portal page, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--ssid", required=True)
    parser.add_argument("--password", default="")
    parser.add_argument("--timeout", type=float, default=60.0, help="bound of the whole run, seconds")
    parser.add_argument("--screenshot", help="write a PNG of the page at the end")
    parser.add_argument("--driver-log", help="keep chromedriver's full log in this file")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    def interrupt(signum, _frame):
        raise Interrupted("signal %d" % signum)

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)

    started = time.monotonic()
    result = {"ok": False, "url": args.url, "state": None, "status": None}
    code = 2
    try:
        run(args, result)
        result["ok"] = True
        code = 0
    except SetupError as error:
        result.update(stage="setup", error=str(error))
    except (PageError, WebDriverError, OSError, ValueError, KeyError, TypeError) as error:
        result.update(stage="page", error=str(error))
        code = 1
    except Interrupted as error:
        result.update(stage="interrupted", error=str(error))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        driver = result.pop("_driver", None)
        process = result.pop("_process", None)
        profile = result.pop("_profile", None)
        log_path = result.pop("_log", None)
        if driver is not None and driver.session is not None:
            if args.screenshot:
                try:
                    driver.screenshot(args.screenshot)
                    result["screenshot"] = args.screenshot
                except (OSError, WebDriverError, ValueError, TypeError) as error:
                    log("screenshot failed: %s" % error)
            try:
                driver.call("DELETE", "/session/%s" % driver.session, timeout=5.0)
            except (OSError, WebDriverError, ValueError):
                pass
        stop_processes(process, profile)
        if profile:
            if code != 0 and log_path:
                try:
                    with open(log_path, errors="replace") as file:
                        tail = file.read()[-2000:]
                    if tail:
                        log("chromedriver log tail:\n" + tail)
                except OSError:
                    pass
            shutil.rmtree(profile, ignore_errors=True)
    result["elapsed"] = round(time.monotonic() - started, 2)
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
