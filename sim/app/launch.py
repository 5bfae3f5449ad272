"""Serving the app: the Solara server command, its environment and the address to open.

``p2psim app`` validates the scenario, then starts ``python -m solara run sim.app.page`` as a
child process. The scenario travels to it as TOML text in the environment
(:data:`ENV_TOML`), never as a path, and the server listens on localhost unless ``--host``
says otherwise. Solara's telemetry is switched off: a classroom machine phones nobody.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

ENV_TOML = "P2PSIM_APP_TOML"  # the scenario the page opens with, as TOML text
ENV_NAME = "P2PSIM_APP_SOURCE"  # what the page calls that text (the file's name)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "sim.app.page"
NEEDS = ("solara", "mesa.visualization")


def missing_extra() -> str | None:
    """Why the app cannot start without the ``app`` extra, or ``None`` if it can."""
    for name in NEEDS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # a parent package imports something that is missing
            found = False
        if not found:
            return (f"the app needs the 'app' extra ({name} is not installed): run "
                    f"`make app`, or `pip install -e '.[app]'`")
    return None


def url(host: str, port: int) -> str:
    """The address a browser opens."""
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    return f"http://{shown}:{port}"


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The server command.

    Production mode: no reloader and no checks that reach the internet; the plain loader: no
    banner over the page.
    """
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host,
            "--port", str(port), "--production", "--no-open", "--log-level", "warning",
            "--theme-loader", "plain"]


def environment(toml: str, name: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the scenario text and Solara switched to stay offline."""
    env = dict(os.environ if base is None else base)
    env.update({ENV_TOML: toml, ENV_NAME: name,
                "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                "SOLARA_THEME_VARIANT": "light"})
    return env


def start(toml: str, name: str, host: str = DEFAULT_HOST,
          port: int = DEFAULT_PORT) -> subprocess.Popen:
    """Start the server as a child process; the caller waits for it and stops it."""
    return subprocess.Popen(command(host, port), env=environment(toml, name))
