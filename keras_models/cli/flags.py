"""Command-line flags generated from the typed config: one flag per `TrainConfig` field.

`define_flags` defines, for every field of `keras_models.config.TrainConfig`, a flag of
the same name whose parser follows the field's type (`int | None` -> an integer flag,
`bool | str` -> true/false/auto, `float | str` -> a float or adaptive) and whose help
text is the field's, with its choices and bounds. Every such flag defaults to None (the
recipe's value); `flag_overrides` returns the fields given on the command line, which
override the recipe (`keras_models.recipes.resolve`). Only the type is parsed here:
ranges, choices and combinations are checked by `TrainConfig`.
"""

import dataclasses
from typing import Any

from absl import flags

from keras_models.config import FIELDS, allowed_types, choices_text


class _FloatOrAdaptiveParser(flags.ArgumentParser):
    """A float, or the word adaptive."""

    def parse(self, argument):
        if isinstance(argument, str) and argument.strip().lower() == "adaptive":
            return "adaptive"
        try:
            return float(argument)
        except ValueError:
            raise ValueError(f"Expected a float or adaptive. Received: {argument!r}") from None

    def flag_type(self):
        return "float or adaptive"


class _BoolOrAutoParser(flags.BooleanParser):
    """true / false (like a boolean flag, so `--name` and `--noname` work) or auto."""

    def parse(self, argument):
        if isinstance(argument, str) and argument.strip().lower() == "auto":
            return "auto"
        return super().parse(argument)

    def flag_type(self):
        return "bool or auto"


_PARSERS = {
    (bool,): flags.BooleanParser,
    (int,): flags.IntegerParser,
    (float,): flags.FloatParser,
    (str,): flags.ArgumentParser,
    (bool, str): _BoolOrAutoParser,
    (float, str): _FloatOrAdaptiveParser,
}


def _flag_help(field: dataclasses.Field) -> str:
    meta = field.metadata
    parts = [meta["help"]]
    if meta["choices"] is not None:
        parts.append(f"One of: {choices_text(field)}.")
    if meta["bounds"]:
        parts.append(
            "Must be " + " and ".join(f"{op} {b}" for op, b in meta["bounds"].items()) + "."
        )
    return " ".join(parts)


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines one flag per `TrainConfig` field, of the field's type and name.

    Args:
        flag_values: where to define them (absl's global `FLAGS` by default).
    """
    for name, field in FIELDS.items():
        allowed = tuple(t for t in allowed_types(name) if t is not type(None))
        flags.DEFINE_flag(
            flags.Flag(
                _PARSERS[allowed](),
                flags.ArgumentSerializer(),
                name,
                None,
                _flag_help(field),
                boolean=bool in allowed,
            ),
            flag_values,
        )


def flag_overrides(flag_values: flags.FlagValues = flags.FLAGS) -> dict[str, Any]:
    """The config fields given on the command line.

    Args:
        flag_values: parsed flags holding `define_flags`'s flags.

    Returns:
        `{field name: value}` of the flags that were present.
    """
    return {name: flag_values[name].value for name in FIELDS if flag_values[name].present}
