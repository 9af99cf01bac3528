"""The test suite on every supported Python and ``openai`` major version (``make matrix``).

Each cell is its own virtualenv under ``.nox/`` with the project (editable, ``[test]``
extra) and one exact ``openai`` release. openai 1.x and 2.x bring ``httpx`` themselves,
3.x brings ``httpx2``; ``tests/support/http_library.py`` picks the one installed.

    nox                                   # all 12 cells
    nox -s "tests-3.10(openai1)"          # one cell (``make matrix PYTHONS=3.10 OPENAI_MAJORS=1``)
    nox -s tests-3.13 -- -x -k stream     # after ``--``: pytest arguments
"""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

OPENAI_RELEASES = {
    "1": "1.109.1",  # latest 1.x
    "2": "2.54.0",  # latest 2.x
    "3": "3.57.0",  # latest 3.x
}
"""The one place the tested ``openai`` releases are pinned: the newest of each major."""

OLDEST_OPENAI = "1.108.1"
"""The floor of the ``instruments`` extra in pyproject.toml (keep them equal): the oldest
release on which the whole suite passes. Older 1.x clients lack APIs the suite drives
(``chat.completions.parse``/``stream`` before 1.92, ``conversation`` and ``omit``
before 1.101)."""

_QUIET = ("-qq", "--disable-pip-version-check")
"""pip shows errors only: one cell's install is a few hundred lines otherwise."""

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "venv"


def _put_pyenv_pythons_on_path() -> None:
    """pyenv's shims only answer for its selected versions: put every installed
    ``python3.X`` of :data:`PYTHONS` on ``PATH`` directly (newest patch release)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    directories = []
    for version in PYTHONS:
        found = sorted(
            glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")),
            key=lambda path: [int(p) for p in path.split(os.sep)[-3].split(".") if p.isdigit()],
        )
        if found:
            directories.append(os.path.dirname(found[-1]))
    if directories:
        os.environ["PATH"] = os.pathsep.join([*directories, os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


@nox.session(python=PYTHONS)
@nox.parametrize("openai_major", list(OPENAI_RELEASES), ids=[f"openai{m}" for m in OPENAI_RELEASES])
def tests(session: nox.Session, openai_major: str) -> None:
    """pytest with the latest release of one ``openai`` major version."""
    session.install(
        *_QUIET,
        "-e",
        ".[test]",
        f"openai=={OPENAI_RELEASES[openai_major]}",
    )
    # the slow end-to-end runs (real backends, the demo's full day) are not about the
    # Python or openai version: `make test` runs them once
    session.run("python", "-m", "pytest", "-m", "not slow", *session.posargs)


@nox.session(python="3.11")
def oldest_openai(session: nox.Session) -> None:
    """The oldest ``openai`` the ``instruments`` extra claims (not part of CI)."""
    session.install(
        *_QUIET,
        "-e",
        ".[test]",
        f"openai=={OLDEST_OPENAI}",
    )
    session.run("python", "-m", "pytest", *session.posargs)
