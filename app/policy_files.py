"""Reading the files in playbooks/: YAML onto strict pydantic models, any problem as one line.

Every model forbids keys it does not know, so a typo (`privat: true`, `escalate_too: management`) stops
start-up naming the file, the key and the key that was probably meant, instead of being ignored.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

Model = TypeVar("Model", bound=BaseModel)


class PolicyError(Exception):
    """A playbook file is missing or malformed; the message names the file and the problem."""


class WrittenDuration(timedelta):
    """A duration as a policy file wrote it, so people read the file's words: 48h is "48 hours", not "2 days"."""

    amount: int
    unit: str  # seconds, minutes, hours or days

    @classmethod
    def written(cls, amount: int, unit: str) -> WrittenDuration:
        span = cls(**{unit: amount})
        span.amount, span.unit = amount, unit
        return span

    def __reduce__(self) -> tuple[Callable[[int, str], WrittenDuration], tuple[int, str]]:  # copies keep the words
        return WrittenDuration.written, (self.amount, self.unit)

    @property
    def spoken(self) -> str:
        return f"{self.amount} {self.unit if self.amount != 1 else self.unit[:-1]}"


def parse_duration(text: object) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h or 2d")
    amount, unit = match.groups()
    return WrittenDuration.written(int(amount), _UNITS[unit])


def _duration(value: object) -> object:
    return value if isinstance(value, timedelta) else parse_duration(value)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


Duration = Annotated[timedelta, BeforeValidator(_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]  # an integration's API, without the trailing slash


class StrictModel(BaseModel):
    """A section of a policy file: unknown keys are errors; a key left empty (`key:`) takes its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k in cls.model_fields)}
        return data


def yaml_text(text: str) -> Any:
    """YAML read safely, by libyaml where PyYAML was built with it (ten times faster than pure Python)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_yaml(path: Path, *, missing: Any = ...) -> Any:
    """The file's YAML; a missing file is an error unless `missing` says what it means."""
    try:
        return yaml_text(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if missing is not ...:
            return missing
        raise PolicyError(f"{path}: file is missing") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None


def load(path: Path, model: type[Model], *, missing: Any = ...) -> Model:
    """The file read onto the model; a problem is a PolicyError naming the file and the key."""
    data = read_yaml(path, missing=missing)
    return validate(model, {} if data is None else data, path=path)


def validate(model: type[Model], data: Any, *, path: Path, where: str = "") -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise PolicyError(f"{path}: {where + ': ' if where else ''}{describe(error, model)}") from None


def describe(error: ValidationError, model: type[BaseModel]) -> str:
    """One problem, in the words of the file: an unknown key first (the likeliest typo), else the first."""
    problems = error.errors(include_url=False)
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    loc = problem["loc"]
    key = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
    inside = _where(loc[:-1]) if loc and isinstance(loc[-1], str) else _where(loc)
    prefix = f"{inside}: " if inside else ""
    if problem["type"] == "extra_forbidden":
        return prefix + f"unknown key {key!r}" + _suggestion(key, _keys_at(model, loc[:-1]))
    if problem["type"] == "missing":
        return prefix + f"missing {key!r}"
    if problem["type"] in ("list_type", "tuple_type"):
        return prefix + f"{key!r} must be a list"
    if problem["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return f"{_where(loc) + ': ' if loc else ''}expected a mapping of keys and values"
    return _where(loc) + (": " if loc else "") + _message(problem)


def _message(problem: ErrorDetails) -> str:
    message = problem["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    given = problem.get("input")
    if problem["type"] != "value_error" and isinstance(given, (str, int, float)) and repr(given) not in message:
        message += f" (not {given!r})"
    return message


def _where(loc: Sequence[int | str]) -> str:
    """('compliance', 0, 'within') → compliance[1].within: list positions counted from 1, as people do."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _suggestion(key: str, valid: list[str]) -> str:
    if not valid:
        return ""
    close = difflib.get_close_matches(key, valid, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (valid keys: {', '.join(valid)})"


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the model allows at this place in the file."""
    current: Any = model
    for part in loc:
        value = _dict_value(current)
        if value is not None and isinstance(part, str):  # a key of a mapping (services.<key>), not a field
            current = value
            continue
        current = _element(current)
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        current = current.model_fields[part].annotation
    current = _element(current)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _element(annotation: Any) -> Any:
    """Through Optional, Annotated and containers to the model inside, if any."""
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (Union, types.UnionType):
            models = [a for a in args if a is not type(None)]
            annotation = models[0] if len(models) == 1 else annotation
            if len(models) != 1:
                return annotation
        elif origin in (list, tuple, dict) and args:
            annotation = args[-1] if origin is dict or args[-1] is not Ellipsis else args[0]
        else:
            return annotation


def _dict_value(annotation: Any) -> Any:
    """The type of a mapping's values, through Optional and Annotated; None if it is not a mapping."""
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if len(inner) != 1:
                return None
            annotation = inner[0]
        else:
            return args[-1] if origin is dict and args else None
