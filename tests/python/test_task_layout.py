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
