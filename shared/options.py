"""One declaration per command-line option: a config dataclass field carries its flag and help.

    @dataclasses.dataclass(frozen=True)
    class Config(RunOptions):
        folds: int = option(5, help="cross-validation folds", group="protocol")
        models: tuple[str, ...] = option(("rnn",), help="...", convert=comma_list)

    def parse_args(argv=None) -> Config:
        return parse_config(Config, argv, prog="deepcases run app", description=__doc__, validate=_check)

``option(default, help=..., flag=..., group=..., choices=..., type=..., nargs=..., metavar=...,
action=..., convert=..., cli_default=...)`` is a ``dataclasses.field`` whose metadata holds what
``argparse.add_argument`` needs. :func:`build_parser` turns the fields of a config class into an
``ArgumentParser`` (one argument group per ``group``, in the order the classes declare them: the
application's own first, then inherited ones such as shared.app's ``run`` options);
:func:`parse_config` parses argv into the frozen config and calls the application's
``validate(config, error)`` hook once, where the cross-field checks live (``error(message)`` is
``parser.error``: usage, the message, exit code 2). The hook may return a replaced config, for
fields computed from several flags.

Field rules: the flag defaults to ``--`` + the field name with dashes; the argparse ``dest`` is
always the field name. Without ``type``/``action``/``convert``, the annotation decides: ``int`` or
``float`` (``None`` allowed) becomes the argparse type, ``tuple[X, ...]`` becomes ``nargs="+"``
with type X and ``tuple[X, X]`` ``nargs=2``. Sequence values become tuples. An option left at its
default gets the field's default (``cli_default`` when given, e.g. ``None`` for "derive it in
validate"); a given value passes through ``convert`` (a ``ValueError`` there is an ``error``).
A subclass may re-declare an inherited option with a plain default (``seed: int = 7``): the
declaration of the base class still supplies the flag and help. A field whose default is a
dataclass declared with :func:`nested` contributes that dataclass's options (flat flags) and is
rebuilt from them. Fields without option metadata are not on the command line.

Why a small module of our own and not simple-parsing 0.1.9 or tyro 1.0.16: both derive flag
names, help layout and error text from their own conventions (tyro: its own formatter and error
panels, subcommand-style nesting; simple-parsing: help from field docstrings/comments, prefixed
flags for nested dataclasses), so the applications' option names, help texts and ``parser.error``
messages would change or need an override per field; reading field metadata into plain argparse
keeps every one of them and adds no dependency.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

OPTION = "deepcases.option"
C = TypeVar("C")
_SAME = object()  # "cli_default not given: the field's own default"


@dataclasses.dataclass(frozen=True)
class Option:
    """What ``argparse.add_argument`` needs for one config field (see :func:`option`)."""

    help: str | None = None
    flag: str | None = None
    group: str | None = None
    choices: Sequence[Any] | None = None
    type: Callable[[str], Any] | None = None
    nargs: int | str | None = None
    metavar: str | tuple[str, ...] | None = None
    action: str | None = None
    convert: Callable[[Any], Any] | None = None
    cli_default: Any = _SAME


@dataclasses.dataclass(frozen=True)
class Nested:
    """Marks a field whose default dataclass brings its own options (see :func:`nested`)."""

    group: str | None = None


def option(default: Any = dataclasses.MISSING, *, help: str | None = None, flag: str | None = None,  # noqa: A002
           group: str | None = None, choices: Sequence[Any] | None = None, type: Callable[[str], Any] | None = None,  # noqa: A002
           nargs: int | str | None = None, metavar: str | tuple[str, ...] | None = None, action: str | None = None,
           convert: Callable[[Any], Any] | None = None, cli_default: Any = _SAME) -> Any:
    """A dataclass field that is also a command-line option (``help`` is the ``--help`` text)."""
    spec = Option(help=help, flag=flag, group=group, choices=tuple(choices) if choices is not None else None,
                  type=type, nargs=nargs, metavar=metavar, action=action, convert=convert, cli_default=cli_default)
    return dataclasses.field(default=default, metadata={OPTION: spec})


def nested(default: Any, *, group: str | None = None) -> Any:
    """A field holding a dataclass whose own ``option`` fields are flags; ``group`` for those without one."""
    return dataclasses.field(default=default, metadata={OPTION: Nested(group)})


def comma_list(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``: the parts of a comma-separated option, stripped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _declared(cls: type) -> list[tuple[int, dataclasses.Field, Any]]:
    """(rank of the declaring class in the MRO, field, option spec) for each command-line field."""
    found = []
    for field in dataclasses.fields(cls):
        for rank, klass in enumerate(cls.__mro__):  # the nearest class that declares it as an option
            base = getattr(klass, "__dataclass_fields__", {}).get(field.name)
            declared_here = field.name in vars(klass).get("__annotations__", {})
            if declared_here and base is not None and OPTION in base.metadata:
                found.append((rank, field, base.metadata[OPTION]))
                break
    return sorted(found, key=lambda item: item[0])  # stable: the class's own fields first, in their order


def _argparse_kind(hint: Any) -> dict[str, Any]:
    """argparse ``type``/``nargs`` from an annotation: int, float, X | None, tuple[X, ...], tuple[X, X]."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kept = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = kept[0] if len(kept) == 1 else str
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        inner = _argparse_kind(args[0]).get("type")
        nargs = "+" if len(args) == 2 and args[1] is Ellipsis else len(args)
        return {"nargs": nargs, **({"type": inner} if inner else {})}
    return {"type": hint} if hint in (int, float) else {}


def _options(cls: type, group: str | None = None) -> list[tuple[int, dataclasses.Field, Any, Any]]:
    """Every flag of ``cls`` with its annotation, nested dataclasses flattened in place."""
    hints = typing.get_type_hints(cls)
    out = []
    for rank, field, spec in _declared(cls):
        if isinstance(spec, Nested):
            out += [(rank, *rest) for _, *rest in _options(type(field.default), spec.group or group)]
        else:
            out.append((rank, field, dataclasses.replace(spec, group=spec.group or group), hints[field.name]))
    return out


def add_options(parser: argparse.ArgumentParser, cls: type) -> dict[str, Any]:
    """Add the options of ``cls`` to ``parser`` (one group per ``group``); returns dest -> argparse default."""
    groups: dict[str | None, Any] = {None: parser}
    defaults: dict[str, Any] = {}
    for _, field, spec, hint in _options(cls):
        if spec.group not in groups:
            groups[spec.group] = parser.add_argument_group(spec.group)
        kwargs: dict[str, Any] = {"dest": field.name, "help": spec.help}
        if spec.type is None and spec.action is None and spec.convert is None:
            kwargs.update(_argparse_kind(hint))
        for key in ("choices", "type", "nargs", "metavar", "action"):
            if getattr(spec, key) is not None:
                kwargs[key] = getattr(spec, key)
        default = field.default if spec.cli_default is _SAME else spec.cli_default
        if isinstance(default, tuple) and (kwargs.get("nargs") is not None or spec.action == "append"):
            default = list(default)  # what argparse itself would hold (and show with %(default)s)
        kwargs["default"] = defaults[field.name] = default
        flag = spec.flag or "--" + field.name.replace("_", "-")
        if spec.flag and spec.metavar is None and spec.action in (None, "store", "append"):
            kwargs["metavar"] = flag.lstrip("-").replace("-", "_").upper()  # argparse's, from the flag not the dest
        groups[spec.group].add_argument(flag, **kwargs)
    return defaults


def build_parser(cls: type, *, prog: str, description: str | None = None, epilog: str | None = None,
                 formatter_class: type = argparse.RawDescriptionHelpFormatter) -> argparse.ArgumentParser:
    """The ``ArgumentParser`` of a config class: its options, their groups, ``--help``."""
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=formatter_class)
    parser.set_defaults(**{"_deepcases_defaults": add_options(parser, cls)})
    return parser


def config_from(cls: type[C], args: argparse.Namespace, error: Callable[[str], NoReturn]) -> C:
    """The config ``cls`` holding the parsed ``args`` (defaults for untouched options, tuples for lists)."""
    defaults = getattr(args, "_deepcases_defaults", {})
    values: dict[str, Any] = {}
    for _, field, spec in _declared(cls):
        if isinstance(spec, Nested):
            values[field.name] = config_from(type(field.default), args, error)
            continue
        value = getattr(args, field.name)
        if field.name in defaults and value is defaults[field.name]:  # not given: the declared default
            value = field.default if spec.cli_default is _SAME else spec.cli_default
        elif spec.convert is not None:
            try:
                value = spec.convert(value)
            except ValueError as err:
                error(str(err))
        elif isinstance(value, list):
            value = tuple(value)
        values[field.name] = value
    return cls(**values)


def parse_config(cls: type[C], argv: Sequence[str] | None, *, prog: str, description: str | None = None,
                 epilog: str | None = None, formatter_class: type = argparse.RawDescriptionHelpFormatter,
                 validate: Callable[[C, Callable[[str], NoReturn]], C | None] | None = None) -> C:
    """Parse ``argv`` into the frozen config ``cls``; ``validate(config, error)`` checks it (and may
    return a replaced config); ``error`` exits with the usage line, the message and code 2."""
    parser = build_parser(cls, prog=prog, description=description, epilog=epilog, formatter_class=formatter_class)
    args = parser.parse_args(argv)
    config = config_from(cls, args, parser.error)
    if validate is not None:
        config = validate(config, parser.error) or config
    return config


def flag_of(cls: type, name: str) -> str:
    """The command-line flag of field ``name`` of ``cls`` (for error messages)."""
    for _, field, spec, _hint in _options(cls):
        if field.name == name:
            return spec.flag or "--" + name.replace("_", "-")
    raise KeyError(f"{cls.__name__} has no option {name!r}")


def require_at_least(config: Any, error: Callable[[str], NoReturn], minimum: float, *names: str) -> None:
    """``error("--NAME must be >= MINIMUM, got V")`` for the first field of ``names`` below ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if value < minimum:
            error(f"{flag_of(type(config), name)} must be >= {minimum}, got {value}")
