"""`maestro compile` on a terminal shows the stage it is in, and leaves no trace of it: the lines that
stay are exactly those a log gets. --quiet shows no stages."""

from __future__ import annotations

import re

from tests.support import copy_examples, maestro, on_terminal

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_compile_shows_its_stages_on_a_terminal_and_only_the_result_stays(tmp_path):
    root = copy_examples(tmp_path)
    maestro(root, "compile", check=True)
    code, screen = on_terminal(root, "compile", "--check")
    assert code == 0, screen
    drawn = ESCAPE.sub("", screen)
    assert re.search(r"validating \d+ objects", drawn), drawn
    assert "comparing with gitops/" in drawn
    # what remains once the status line is erased: the verdict alone
    assert drawn.replace("\r\n", "\n").rstrip().splitlines()[-1].split("\r")[-1] == "gitops/ is up to date"


def test_quiet_compile_on_a_terminal_shows_no_stages(tmp_path):
    root = copy_examples(tmp_path)
    maestro(root, "compile", check=True)
    code, screen = on_terminal(root, "compile", "--check", "--quiet")
    assert code == 0, screen
    assert "validating" not in screen and ESCAPE.sub("", screen).strip() == "gitops/ is up to date"
