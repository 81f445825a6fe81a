"""What a task is lives in one place per layer (issue #17): the task registry
(src/data/task_registry.cpp), the task's data ops (src/data/tasks/<task>.cpp) and its scorer
(src/eval/tasks/<task>.cpp). Everywhere else code asks those, never the task itself: no
`switch` on a task and no comparison with a Task value. Adding a task then touches its registry
entries and its own files only (CONTRIBUTING.md, "Adding a task")."""
import re

from conftest import SOURCE_DIR

SRC = SOURCE_DIR / "src"
# The registry and the per-task files; qa_postprocess.cpp is QA's own answer extraction.
ALLOWED = ("data/task_registry.cpp", "data/tasks/", "eval/tasks/", "data/qa_postprocess.cpp")
PATTERNS = [
    re.compile(r"case\s+(data::)?Task::k\w+"),              # a switch over a task
    re.compile(r"[=!]=\s*(data::)?Task::k\w+"),             # task == Task::kX
    re.compile(r"(data::)?Task::k\w+\s*[=!]="),             # Task::kX == task
]


def test_no_task_switch_outside_the_registry_and_the_task_files():
    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".cpp", ".h"):
            continue
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//")[0]
            if any(p.search(code) for p in PATTERNS):
                found.append(f"src/{rel}:{number}: {line.strip()}")
    assert not found, "task-specific code outside the task's files:\n" + "\n".join(found)


def test_the_check_sees_a_switch():
    """The patterns catch what they are for (so the test above cannot pass vacuously)."""
    samples = ["    case data::Task::kMlm:", "if (m.task == data::Task::kQuestionAnswering) {",
               "if (Task::kMlm != d.task)"]
    for sample in samples:
        assert any(p.search(sample) for p in PATTERNS), sample
    assert not any(p.search("Task task = Task::kTokenClassification;") for p in PATTERNS)


# Functions longer than this need a reason written above them ("// Long ... on purpose: ...").
MAX_FUNCTION_LINES = 85
SIGNATURE = re.compile(r"^[A-Za-z][\w:<>,\s\*&~]*\(")
NOT_A_FUNCTION = ("namespace", "struct", "class", "enum", "using", "template", "return", "if",
                  "for", "while", "#")


def long_functions_without_a_reason(lines):
    """(first line, length, name) of each top-level definition over MAX_FUNCTION_LINES lines
    whose comment block above has no 'Long ... on purpose' reason."""
    found = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if SIGNATURE.match(line) and not line.startswith(NOT_A_FUNCTION):
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith(("{", ";")):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{"):
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                length = k - i + 1
                above = []
                m = i - 1
                while m >= 0 and lines[m].startswith("//"):
                    above.append(lines[m])
                    m -= 1
                reason = any(re.search(r"Long\b.*on purpose", a) for a in above)
                if length > MAX_FUNCTION_LINES and not reason:
                    found.append((i + 1, length, line.strip()))
                i = k
        i += 1
    return found


def test_no_long_function_without_a_reason():
    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".cpp", ".h"):
            continue
        for number, length, line in long_functions_without_a_reason(path.read_text().splitlines()):
            found.append(f"src/{path.relative_to(SRC).as_posix()}:{number}: {length} lines: {line}")
    assert not found, ("functions over %d lines without a reason above them (split them, or "
                       "write '// Long on purpose: WHY'):\n" % MAX_FUNCTION_LINES) + "\n".join(found)


def test_the_length_check_sees_a_long_function():
    body = ["int f() {"] + ["  x();"] * (MAX_FUNCTION_LINES + 5) + ["}"]
    assert long_functions_without_a_reason(body)
    assert not long_functions_without_a_reason(["// Long on purpose: one pass."] + body)
    assert not long_functions_without_a_reason(["int g() {", "  x();", "}"])
