"""The README and docs/ stay true: every relative link leads to a file (and its #anchor to a heading there), every
`python -m ...` command in a code block names a module that exists and flags its --help lists, and the README
gives its three commands (sandbox, run, test) where a newcomer sees them: in its first 60 lines."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
FENCE = re.compile(r"^```.*?^```", flags=re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
COMMAND = re.compile(r"(?:\.venv/bin/)?python3? -m ([\w.]+)([^\n#&|]*)")
THE_THREE = ("python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m app sandbox",
             "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m app\n",
             "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest")


def name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def prose(text: str) -> str:
    """The text outside code: links in code blocks and `inline code` are examples, not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text without markup, lower case, punctuation dropped, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its words
    text = re.sub(r"[`*~]", "", text)  # underscores stay: GitHub keeps them (they are word characters)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", FENCE.sub("", page.read_text(encoding="utf-8")), flags=re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return frozenset(found)


def links() -> list[tuple[Path, str]]:
    return [(page, target) for page in PAGES
            for target in LINK.findall(prose(page.read_text(encoding="utf-8")))
            if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize(("page", "target"), links(), ids=lambda v: name(v) if isinstance(v, Path) else v)
def test_every_relative_link_leads_to_a_file_and_its_anchor_to_a_heading(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    assert linked.exists(), f"{name(page)} links to {target}: no such file"
    if anchor:
        assert linked.suffix == ".md", f"{name(page)} links to {target}: an anchor in a file that is not Markdown"
        assert anchor in anchors(linked), (f"{name(page)} links to {target}: no such heading in {name(linked)} "
                                           f"(it has {sorted(anchors(linked))})")


def test_the_slugs_follow_githubs_rules() -> None:
    assert slug("From nothing to a first incident") == "from-nothing-to-a-first-incident"
    assert slug("`bench.declare`: how fast `/incident declare` is answered") == \
        "benchdeclare-how-fast-incident-declare-is-answered"
    assert slug("Try it, no Slack needed") == "try-it-no-slack-needed"


def commands() -> list[tuple[Path, str, list[str]]]:
    """(page, module, arguments) of each `python -m` in a fenced code block."""
    found = []
    for page in PAGES:
        for block in FENCE.findall(page.read_text(encoding="utf-8")):
            for module, rest in COMMAND.findall(block):
                found.append((page, module, rest.split()))
    return found


def help_command(module: str, arguments: list[str]) -> tuple[str, ...]:
    """What to ask for help: the module, and for `app` its subcommand (`app` reads its own arguments)."""
    positional = [a for a in arguments if not a.startswith("-")]
    if module == "app" and positional and positional[0] in ("sandbox",):
        return (module, positional[0])
    return (module,)


@pytest.fixture(scope="module")
def helps() -> dict[tuple[str, ...], str]:
    """Each distinct command's --help. A benchmark's argparse answers in this process; `python -m app` reads its
    own arguments and sets up logging, so it is asked as a process (a second or two each: they import the app)."""
    wanted = sorted({help_command(module, args) for _, module, args in commands()
                     if module == "app" or module.startswith("bench")})

    def ask(command: tuple[str, ...]) -> str:
        if command[0] != "app":
            said = io.StringIO()
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said), pytest.raises(SystemExit):
                importlib.import_module(command[0]).main(["--help"])
            return said.getvalue()
        answer = subprocess.run([sys.executable, "-m", *command, "--help"], cwd=ROOT, capture_output=True, text=True,
                                timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert "usage:" in answer.stdout + answer.stderr, (command, answer.stdout, answer.stderr)
        return answer.stdout + answer.stderr

    return {command: ask(command) for command in wanted}


@pytest.mark.parametrize(("page", "module", "arguments"), commands(),
                         ids=lambda v: name(v) if isinstance(v, Path) else " ".join(v) if isinstance(v, list) else v)
@pytest.mark.processes
def test_every_command_names_a_module_and_flags_that_exist(page: Path, module: str, arguments: list[str],
                                                           helps: dict[tuple[str, ...], str]) -> None:
    assert importlib.util.find_spec(module) is not None, f"{name(page)}: python -m {module}: no such module"
    if module != "app" and not module.startswith("bench"):
        return
    usage = helps[help_command(module, arguments)]
    for flag in (a.split("=")[0] for a in arguments if a.startswith("--")):
        assert re.search(rf"{re.escape(flag)}\b", usage), f"{name(page)}: python -m {module} has no {flag}"
    positional = [a for a in arguments if not a.startswith("-")]
    if module == "app" and positional:
        assert re.search(rf"\b{positional[0]}\b", usage), f"{name(page)}: python -m app has no {positional[0]}"


def test_the_readme_gives_the_sandbox_run_and_test_commands_in_its_first_60_lines() -> None:
    opening = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:60]) + "\n"

    for command in THE_THREE:
        assert command in opening, f"README.md's first 60 lines lack: {command.strip()}"
    assert "http://127.0.0.1:3000/" in opening


@pytest.mark.processes
def test_a_wrong_flag_or_anchor_would_be_caught(helps: dict[tuple[str, ...], str]) -> None:
    """The checks above can fail: a flag no --help lists, and an anchor no heading makes."""
    assert not re.search(r"--no-such-flag\b", helps[("app", "sandbox")])
    assert "--speed" in helps[("app", "sandbox")] and "--drill" in helps[("app", "sandbox")]
    assert "no-such-heading" not in anchors(ROOT / "docs" / "sandbox.md")
