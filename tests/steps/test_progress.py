"""What `maestro run` shows while it works: live on a real pseudo-terminal (each step as it starts, an
epoch bar while training, colour unless NO_COLOR), one plain line per step elsewhere, nothing with
--quiet; and what the steps and their libraries print lands in the step's log, not in that table."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from maestro.stray_output import into_log
from tests.support import on_terminal

from .conftest import REPO, run_cli

STEPS = ["ingest", "validate", "features", "train", "evaluate", "gate", "publish"]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# SGR sequences that set a colour: 30-37/39, 90-97 (foreground), 40-47/49, 100-107 (background), 38;/48; (256 and true colour)
COLOUR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9]+)*m")


def run_on_terminal(output: Path, **environ: str) -> str:
    """`maestro run` of the dev example with a pty for its output."""
    code, screen = on_terminal(REPO, "run", "aapl-direction", "--root", str(REPO), "--env", "dev",
                               "--output-dir", str(output), env=environ)
    assert code == 0, screen
    return screen


def frames(screen: str) -> list[str]:
    """What was drawn, redraw by redraw: the text between carriage returns and newlines, sans escapes."""
    return [part for part in re.split(r"[\r\n]+", ESCAPE.sub("", screen)) if part.strip()]


@pytest.mark.slow
def test_a_terminal_sees_each_step_start_and_the_training_epochs(tmp_path):
    screen = run_on_terminal(tmp_path / "run")
    drawn = frames(screen)
    for step in STEPS:
        started = next(i for i, f in enumerate(drawn) if re.match(rf"\S\s+{step}\s", f) or
                       re.match(rf"\s+{step}\s+━", f))
        finished = next(i for i, f in enumerate(drawn) if re.match(rf"\s+{step}\s+(ran|skipped|cached)\b", f))
        assert started < finished, (step, drawn[started:finished + 1])
    train = [f for f in drawn if re.match(r"\s*\S?\s*train\s", f) and "epoch" in f]
    # rich redraws ten times a second, so which epochs are drawn depends on the machine's speed
    assert any(re.search(r"epoch [1-3]/3\s+train loss \d\.\d{4}\s+val loss \d\.\d{4}", f) for f in train), drawn
    assert any(re.search(r"fold 3/3\s+epoch \d/3", f) for f in drawn)   # the walk-forward fits
    assert COLOUR.search(screen), "a terminal gets colour by default"
    assert re.search(r"gate (PASSED|REFUSED):", ESCAPE.sub("", screen))


@pytest.mark.slow
def test_no_color_keeps_the_live_display_without_colour(tmp_path):
    screen = run_on_terminal(tmp_path / "run", NO_COLOR="1")
    assert not COLOUR.search(screen), COLOUR.search(screen)
    assert any("epoch" in f for f in frames(screen))


@pytest.mark.slow
def test_off_a_terminal_each_step_is_one_plain_line_in_start_order(dev_example_run):
    output, result = dev_example_run
    assert result.exit_code == 0, result.output
    assert not ESCAPE.search(result.stderr)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("maestro run aapl-direction --env dev -> ")
    rows = [line for line in lines[1:] if not line.startswith("  (")]
    assert [row.split()[0] for row in rows] == STEPS
    assert all(re.fullmatch(r"  \S+\s+(ran|skipped)\s+.*", row) for row in rows), rows
    assert "epoch" not in result.stderr
    for step in STEPS[:-1]:   # publish is skipped when the gate refuses: it did not run, so it has no log
        assert (output / "logs" / f"{step}.log").is_file()


@pytest.mark.slow
def test_quiet_shows_only_the_result(dev_example_run, tmp_path):
    output = tmp_path / "run"   # a copy: the shared run stays as its other readers expect it
    shutil.copytree(dev_example_run[0], output)
    result = run_cli("aapl-direction", "--root", str(REPO), "--env", "dev", "--output-dir", str(output), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert re.search(r"gate (PASSED|REFUSED):", result.stdout)


STRAY = """
import logging, os, subprocess, sys
from pathlib import Path
from maestro.stray_output import into_log
with into_log(Path(sys.argv[1])):
    print("a print")
    print("to stderr", file=sys.stderr)
    logging.getLogger("yfinance").warning("$XYZ: possibly delisted")   # how yfinance tells its notices
    os.write(1, b"descriptor 1\\n")
    os.write(2, b"descriptor 2\\n")
    subprocess.run([sys.executable, "-c", "print('a child process')"], check=True)
print("after the step")
"""


def test_stray_output_of_every_kind_lands_in_the_log_not_on_screen(tmp_path):
    # A fresh interpreter: pytest's own capture and log handlers would catch some of it first.
    log = tmp_path / "logs" / "ingest.log"
    screen = subprocess.run([sys.executable, "-c", STRAY, str(log)], capture_output=True, text=True, check=True)
    written = log.read_text()
    for text in ("a print", "to stderr", "possibly delisted", "descriptor 1", "descriptor 2", "a child process"):
        assert text in written
    assert (screen.stdout, screen.stderr) == ("after the step\n", "")


def test_a_log_planted_as_a_link_is_replaced_not_written_through(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    output = tmp_path / "run"
    (output / "logs").mkdir(parents=True)
    (output / "logs" / "train.log").symlink_to(outside)
    with into_log(output / "logs" / "train.log"):
        print("step output")
    assert outside.read_text() == "keep\n"
    assert not (output / "logs" / "train.log").is_symlink()
    assert (output / "logs" / "train.log").read_text() == "step output\n"

    target = tmp_path / "elsewhere"
    target.mkdir()
    (output / "logs" / "train.log").unlink()
    (output / "logs").rmdir()
    (output / "logs").symlink_to(target)
    with into_log(output / "logs" / "gate.log"):
        print("gate output")
    assert list(target.iterdir()) == []
    assert (output / "logs" / "gate.log").read_text() == "gate output\n"
