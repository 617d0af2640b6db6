"""``deepcases new NAME``: write the skeleton of a new application and its test.

    deepcases new churn                 # applications/churn/{__init__,data,main}.py
                                        # tests/applications/test_churn_app.py
    deepcases run churn                 # runs at once (the CLI finds applications/<name>/main.py)

The skeleton follows the application contract (a frozen config dataclass, ``parse_args``,
``run_case_study``, ``main``, ``QUICK_ARGS``/``FULL_ARGS``) and reuses the shared parts: the dense
family, preprocessing fitted per fold, ``shared.evaluation.cross_validate``, the run artifacts the
report reads, and ``shared.viz``. Its test passes as generated. Existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import keyword
import logging
import re
from importlib import resources
from pathlib import Path

from . import registry
from .errors import UserError

log = logging.getLogger(__name__)

TEMPLATES = "shared.templates.new_app"
#: template file -> path of the generated file, relative to the application folder ("{test}": the tests folder)
FILES = {"app_init.py.txt": "__init__.py", "data.py.txt": "data.py", "main.py.txt": "main.py",
         "test_app.py.txt": "{test}"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _check_name(name: str, package: str) -> None:
    if not _NAME.fullmatch(name or "") or keyword.iskeyword(name):
        raise UserError(f"application name must be a lower-case Python identifier such as 'churn' or "
                         f"'energy_demand', got {name!r}")
    if not _NAME.fullmatch(package) or keyword.iskeyword(package):
        raise UserError(f"--dir must end in a folder whose name is a Python package name (such as 'applications'), "
                         f"got {package!r}")
    if name in registry.APPLICATIONS or name in registry.EXAMPLES:
        raise UserError(f"{name!r} is already a deepcases application or example; choose another name")


def render(template: str, *, name: str, package: str, title: str) -> str:
    text = resources.files(TEMPLATES).joinpath(template).read_text(encoding="utf-8")
    return text.replace("{{name}}", name).replace("{{package}}", package).replace("{{title}}", title)


def new_application(name: str, *, directory: str | Path = "applications", tests_dir: str | Path = "tests/applications",
                    title: str | None = None) -> list[Path]:
    """Write ``directory/name/`` and ``tests_dir/test_<name>_app.py``; returns the files written.

    ``directory`` must be a package folder on the Python path (its name is the import prefix of
    the generated test, e.g. ``applications``); its ``__init__.py`` is created if missing.
    """
    directory, tests_dir = Path(directory), Path(tests_dir)
    package = directory.resolve().name
    _check_name(name, package)
    app_dir = directory / name
    test_file = tests_dir / f"test_{name}_app.py"
    targets = {template: (test_file if out == "{test}" else app_dir / out) for template, out in FILES.items()}
    existing = [str(p) for p in (app_dir, test_file) if p.exists()]
    if existing:
        raise UserError(f"{', '.join(existing)} already exist(s); choose another name or remove them first "
                              "(deepcases new never overwrites files)")
    title = title or f"{name.replace('_', ' ').capitalize()} case study"
    written = []
    package_init = directory / "__init__.py"
    if not package_init.exists():
        directory.mkdir(parents=True, exist_ok=True)
        package_init.write_text('"""Applications (one folder each)."""\n', encoding="utf-8")
        written.append(package_init)
    for template, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, name=name, package=package, title=title), encoding="utf-8")
        written.append(path)
    log.info("wrote %s", ", ".join(map(str, written)))
    return written


def add_new_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("name", help="application name, a lower-case Python identifier (e.g. churn)")
    parser.add_argument("--dir", default="applications",
                        help="package folder the application goes in (default: applications)")
    parser.add_argument("--tests-dir", default="tests/applications",
                        help="folder for the generated test (default: tests/applications)")
    parser.add_argument("--title", default=None, help="one-line description used in the docstrings")
    return parser


def new_command(args: argparse.Namespace) -> int:
    from .app import run_cli

    def body() -> int:
        written = new_application(args.name, directory=args.dir, tests_dir=args.tests_dir, title=args.title)
        for path in written:
            print(f"wrote {path}")
        test = next(p for p in written if p.name.startswith("test_"))
        print(f"\nnext:\n  deepcases run {args.name} --epochs 5 --folds 2   # a first run on the bundled sample\n"
              f"  python -m pytest {test} -q\n"
              f"  edit {Path(args.dir) / args.name / 'data.py'} to load your data; see docs/new_domain.md\n"
              f"  add {args.name!r} to APPLICATIONS in shared/registry.py to list it in `deepcases list`, demo and "
              "reproduce")
        return 0

    return run_cli("new", body)
