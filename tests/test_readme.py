"""The README's quickstart runs as written and prints what it promises."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
def test_quickstart_runs_and_separates():
    (quickstart,) = _python_blocks()
    assert len(quickstart.strip().splitlines()) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(quickstart, "README quickstart", "exec"), {})
    salient_ari, common_ari = map(float, out.getvalue().split())
    assert salient_ari >= 0.8
    assert common_ari <= 0.2


def test_readme_commands_match_ci():
    ci = (README.parent / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    assert any(command in ci for command in commands if "pytest" in command)
