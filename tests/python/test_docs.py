"""The documentation's examples run: every shell command of the ```bash / ```sh / ```console blocks
and every ```python block of README.md and docs/*.md, and every relative link points at a file
(and heading) that exists. How a page marks what cannot run in CI is described in docs/README.md
("How these pages are tested"):

- `<!-- docs-test: skip (reason) -->` on the line before a block skips the block;
- `# docs-test: skip (reason)` at the end of a command skips that command.

Each skipped block or command is a skipped case with its reason, so pytest's summary (`-rs`, as
CTest runs it) counts and lists them. The blocks run in page order (README.md first, so its tour
trains the `runs/quickstart` that other pages use) in one scratch folder holding copies of
recipes/, datasets/ and tools/, with a `clintorch` on PATH that adds `--set training.max_steps=4`
to `train`, so that a documented full training takes seconds."""
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SOURCE_DIR

PAGES = [SOURCE_DIR / "README.md"] + sorted((SOURCE_DIR / "docs").glob("*.md"))
SHELL_LANGS = {"bash", "sh", "console"}
TRAIN_STEPS = 4
COPIED = ["recipes", "datasets", "tools", "configs"]
SKIP_BLOCK = re.compile(r"<!--\s*docs-test:\s*skip\s*(?:\((.*)\))?\s*-->")
SKIP_LINE = re.compile(r"#\s*docs-test:\s*skip\s*(?:\((.*)\))?\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
CONTINUES = ("\\", "|", "&&", "||")


@dataclass
class Case:
    page: str    # path relative to the source dir
    line: int    # 1-based line of the block's first command
    kind: str    # "shell" or "python"
    code: str
    skip: str = ""  # reason, when skipped

    @property
    def id(self):
        return f"{self.page}:{self.line}"


def rel(path):
    return path.relative_to(SOURCE_DIR).as_posix()


def blocks(path):
    """(language, first line number, lines, skip reason or None) of each fenced block."""
    lines = path.read_text().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        end = start + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        marker = SKIP_BLOCK.search(prev)
        skip = (marker.group(1) or "no reason given") if marker else None
        yield lang, start + 2, lines[start + 1:end], skip
        i = end + 1


def commands(lang, first, lines):
    """Logical shell commands as (line number, text); continuation lines are joined."""
    out, current = [], None
    for n, line in enumerate(lines, first):
        if current is not None:
            current[1].append(line)
        elif lang == "console":
            if not line.startswith("$ "):
                continue  # expected output
            current = (n, [line[2:]])
        else:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            current = (n, [line])
        code = SKIP_LINE.sub("", line).rstrip()
        if not code.endswith(CONTINUES):
            out.append((current[0], "\n".join(current[1])))
            current = None
    if current is not None:
        out.append((current[0], "\n".join(current[1])))
    return out


def collect():
    cases = []
    for path in PAGES:
        for lang, first, lines, skip in blocks(path):
            if lang == "python":
                cases.append(Case(rel(path), first, "python", "\n".join(lines), skip or ""))
                continue
            if lang not in SHELL_LANGS:
                continue
            cmds = commands(lang, first, lines)
            if skip is not None:
                cases.append(Case(rel(path), first, "shell", "", skip))
                continue
            run = []
            for n, text in cmds:
                m = SKIP_LINE.search(text.split("\n")[0]) or SKIP_LINE.search(text)
                if m:
                    cases.append(Case(rel(path), n, "shell", text, m.group(1) or "no reason given"))
                else:
                    run.append((n, text))
            if run:
                cases.append(Case(rel(path), run[0][0], "shell", "\n".join(t for _, t in run)))
    return cases


CASES = collect()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, clintorch_bin):
    root = tmp_path_factory.mktemp("docs")
    work = root / "repo"
    work.mkdir()
    for name in COPIED:
        if (SOURCE_DIR / name).is_dir():
            shutil.copytree(SOURCE_DIR / name, work / name)
    bindir = root / "bin"
    bindir.mkdir()
    wrapper = bindir / "clintorch"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# clintorch for the docs test: a documented training runs a few steps only.\n"
        f'if [ "$1" = train ]; then exec "$CLINTORCH_BIN" "$@" --set training.max_steps={TRAIN_STEPS}; fi\n'
        'exec "$CLINTORCH_BIN" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    python = os.environ.get("CLINTORCH_PYTHON") or sys.executable
    env = dict(os.environ)
    env["CLINTORCH_BIN"] = str(Path(clintorch_bin).resolve())
    env["PATH"] = os.pathsep.join([str(bindir), str(Path(python).parent), env.get("PATH", "")])
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return work, env, python


def show(proc):
    tail = lambda s: "\n".join(s.splitlines()[-25:])
    return f"exit {proc.returncode}\n--- stdout (tail)\n{tail(proc.stdout)}\n--- stderr (tail)\n{tail(proc.stderr)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_doc_example_runs(case, workspace):
    if case.skip:
        pytest.skip(f"{case.id}: {case.skip}")
    work, env, python = workspace
    if case.kind == "python":
        argv = [python, "-c", case.code]
    else:
        assert "<<" not in case.code, f"{case.id}: heredocs are not supported in doc examples"
        argv = ["bash", "-e", "-o", "pipefail", "-c", case.code]
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{case.id}: the example failed\n{case.code}\n{show(proc)}"


def test_examples_were_found():
    """The parser sees the pages' examples (a broken fence would silently drop them)."""
    pages = {c.page for c in CASES}
    assert "README.md" in pages and any(p.startswith("docs/") for p in pages), pages
    ran = [c for c in CASES if not c.skip]
    skipped = [c for c in CASES if c.skip]
    assert len(ran) >= 10, [c.id for c in ran]
    print(f"{len(ran)} example blocks run, {len(skipped)} skipped:")
    for c in skipped:
        print(f"  {c.id}: {c.skip}")


# ------------------------------------------------------------------------------------ links

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def slug(heading):
    """GitHub's anchor of a heading."""
    text = re.sub(r"<[^>]+>", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    seen, out, fenced = {}, set(), False
    for line in path.read_text().split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if fenced or not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def prose(path):
    """The page without its fenced blocks and inline code (links there are examples)."""
    text = re.sub(r"^```.*?^```\s*$", "", path.read_text(), flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


LINK_PAGES = PAGES + [SOURCE_DIR / "CONTRIBUTING.md", SOURCE_DIR / "datasets" / "README.md"]


@pytest.mark.parametrize("page", LINK_PAGES, ids=[rel(p) for p in LINK_PAGES])
def test_relative_links_resolve(page):
    bad = []
    for target in LINK.findall(prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            bad.append(f"{target}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading with anchor #{anchor} in {rel(dest)}")
    assert not bad, f"{rel(page)}: broken links:\n" + "\n".join(bad)
