"""`catdsl learn --watch` as a learner sees it: a real terminal (a tmux session on a private
socket) runs the watcher; the test reads the screen, writes the fix into the exercise file as
an editor would (a new file renamed over the old one), and reads the screen again.

Skipped when tmux is not installed (`make test` installs it where it can).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from catdsl.frontend.learn_progress import Progress

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """A detached tmux session of one command, on its own server socket."""

    def __init__(self, folder: Path, command: str) -> None:
        self.socket = str(folder / "tmux.sock")
        self.tmux([
            "new-session", "-d", "-s", "learner", "-x", "160", "-y", "48", command
        ])  # fmt: skip

    def tmux(self, args: list[str]) -> str:
        result = subprocess.run(
            [str(TMUX), "-S", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def screen(self) -> str:
        """Everything the session printed, its scroll-back included, wrapped lines joined."""
        return self.tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "learner"])

    def wait_for(self, *texts: str, timeout: float = 90.0) -> str:
        end = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > end:
                pytest.fail(f"the terminal never showed {texts}; it shows:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([str(TMUX), "-S", self.socket, "kill-server"], capture_output=True)


def test_watch_in_a_terminal_through_one_exercise(tmp_path: Path) -> None:
    folder = tmp_path / "learner"
    folder.mkdir()
    script = tmp_path / "learn.sh"
    script.write_text(
        f"cd {shlex.quote(str(folder))}\n"
        f"export PYTHONPATH={shlex.quote(str(REPO))}\n"
        f"exec {shlex.quote(sys.executable)} -m catdsl learn --watch\n"
    )
    terminal = Terminal(tmp_path, f"sh {shlex.quote(str(script))}; sleep 600")
    try:
        screen = terminal.wait_for("watching catlings/01_token_id.cat")
        assert "01 · beginner · A token id is not an integer" in screen
        assert "error[E0201]: expected `TokenId`, found the integer `3`" in screen
        assert "0/22 done" in screen

        # the learner's editor saves the fix: a new file renamed over the exercise
        target = folder / "catlings" / "01_token_id.cat"
        fixed = target.read_text().replace(
            "let row = 3 >> Embedding", "data rust : TokenId = 3\nlet row = rust >> Embedding"
        )
        saved = target.with_name(".01_token_id.cat.swp")
        saved.write_text(fixed)
        os.replace(saved, target)

        screen = terminal.wait_for("watching catlings/02_windowing.cat")
        assert "solved 01: A token id is not an integer." in screen
        assert "1/22 done" in screen
        assert "02 · beginner · Windowing needs two tokens" in screen
        assert "error[R0401]" in screen
        assert "Traceback" not in screen
    finally:
        terminal.close()
    assert Progress.load(folder).done == ["01_token_id"]
