import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    return [line for b in blocks for line in b.splitlines() if line and not line.startswith("#")]


def test_ci_runs_exactly_the_readme_test_command():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    # CI runs as root and may install Chromium first (the report's browser test needs it under CI);
    # then exactly the README's command 2, nothing else
    assert ci[-1] == commands[1], (ci, commands[1])
    assert all("chromium" in line and "pytest" not in line for line in ci[:-1]), ci


def test_the_readme_commands_need_no_root_and_start_small():
    install, tests = _readme_commands()
    for cmd in (install, tests):
        # a virtualenv (system Pythons refuse `pip install` outside one), no root, and the CPU build of torch
        assert cmd.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 -e "), cmd
        assert "sudo" not in cmd and "apt-get" not in cmd, cmd
    assert tests.endswith("pip install torch==2.13.0 -e '.[test]' && python -m pytest -q")
    # command 1 gives a first result in about a minute: a few claims at smoke scale, not the whole suite
    run = install.split(" && ")[-1].split()
    assert run[:2] == ["greedlab", "run"] and run[run.index("--scale") + 1] == "smoke" and "--claim" in run, run


def test_the_readme_types_no_result_by_hand():
    # results live in docs/RESULTS.md, generated from a store; an interval typed into the README goes stale
    readme = (ROOT / "README.md").read_text()
    assert not re.findall(r"\[−?-?\d+\.\d+, ?−?-?\d+\.\d+\]", readme)
    assert "docs/RESULTS.md" in readme


def test_the_readme_states_the_quick_suite_plan_the_code_has():
    from greedlab.bench.suite import suite_plan

    readme = (ROOT / "README.md").read_text()
    m = re.search(r"runs every claim at quick scale: (\d+) runs, ([\d.]+) M model-steps", readme)
    assert m, "the README states the quick suite's size"
    plan = suite_plan("quick")
    assert int(m.group(1)) == plan["runs"] and float(m.group(2)) == round(plan["model_steps"] / 1e6, 1), plan
