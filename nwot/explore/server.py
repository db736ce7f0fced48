"""Serving the explorer: loopback by default, a clear error for a busy port, optional browser.

The app has no authentication, and a replay runs Python on the server: binding to anything but a
loopback address (127.0.0.0/8, ::1, localhost) needs ``allow_remote=True`` and prints a warning.
"""
from __future__ import annotations

import errno
import ipaddress
import socket
import sys
import threading
import webbrowser
from typing import Callable, Tuple

from werkzeug.serving import WSGIRequestHandler, make_server

from nwot.errors import NwotError

NO_AUTH_WARNING = ("WARNING: nwot explore has no authentication; anyone who can reach {url} can read the tables "
                   "and run searches on this machine")


class PortInUseError(NwotError, OSError):
    """The port asked for is taken."""


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request would drown the notices
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    if not is_loopback(host) and not allow_remote:
        raise NwotError(f"--host {host} is not a loopback address; the explorer has no authentication, so binding "
                        "to another address needs --allow-remote (loopback: 127.0.0.1, ::1, localhost)")


def bind(app, host: str = "127.0.0.1", port: int = 8050, allow_remote: bool = False,
         warn: Callable[[str], None] = lambda m: print(m, file=sys.stderr)):
    """A bound (not yet serving) WSGI server for the Dash ``app``; port 0 = any free port."""
    check_host(host, allow_remote)
    check_port(host, port)
    try:
        srv = make_server(host, int(port), app.server, threaded=True, request_handler=_QuietHandler)
    except SystemExit:  # werkzeug prints its own message and exits when the port is taken (a race)
        raise PortInUseError(_in_use(host, port)) from None
    except OSError as e:
        raise _bind_error(host, port, e) from None
    if not is_loopback(host):
        warn(NO_AUTH_WARNING.format(url=url_of(host, srv.server_port)))
    return srv


def _in_use(host: str, port) -> str:
    return f"port {port} on {host} is already in use; choose another with --port N (--port 0 picks a free one)"


def _bind_error(host: str, port, e: OSError) -> NwotError:
    if e.errno == errno.EADDRINUSE:
        return PortInUseError(_in_use(host, port))
    if e.errno in (errno.EACCES, errno.EPERM):
        return PortInUseError(f"port {port} on {host} needs privileges this user lacks; use a port >= 1024")
    if e.errno == errno.EADDRNOTAVAIL:
        return NwotError(f"--host {host} is not an address of this machine")
    return NwotError(f"cannot bind {host}:{port}: {e}")


def check_port(host: str, port) -> None:
    """Raise a clear error now if ``host:port`` cannot be bound (werkzeug would print and exit instead);
    the CLI calls it before loading the tables."""
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise NwotError(f"--port must be an integer in 0..65535, got {port!r}") from None
    if not 0 <= port <= 65535:
        raise NwotError(f"--port must be in 0..65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug: a listener still blocks it
        try:
            s.bind((host.strip("[]"), port))
        except OSError as e:
            raise _bind_error(host, port, e) from None


def url_of(host: str, port: int) -> str:
    h = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{h}:{port}/"


def serve(app, host: str = "127.0.0.1", port: int = 8050, *, allow_remote: bool = False, open_browser: bool = True,
          log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> None:
    """Serve until interrupted; opens the page in the default browser unless ``open_browser`` is False."""
    srv = bind(app, host, port, allow_remote, warn=log)
    url = url_of(host, srv.server_port)
    log(f"nwot explore: serving {url}  (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(0.3, webbrowser.open, (url,)).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        log("nwot explore: stopped")
    finally:
        srv.server_close()


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> Tuple[str, Callable[[], None]]:
    """Serve in a daemon thread (tests, notebooks): ``(url, stop)``."""
    srv = bind(app, host, port)
    th = threading.Thread(target=srv.serve_forever, daemon=True, name="nwot-explore")
    th.start()

    def stop() -> None:
        srv.shutdown()
        srv.server_close()
        th.join(5)

    return url_of(host, srv.server_port), stop
