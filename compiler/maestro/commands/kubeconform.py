"""kubeconform's spelling of `maestro validate`'s options: Go's flag package takes long flags after
one dash (`-summary`, `-schema-location DIR`, `-strict=false`), which click would read as bundled
short flags (`-s ummary`). The validate command rewrites them to the long options before parsing.

In: the command's argv and its click options. Out: the argv click should parse. Only the flags in
`KUBECONFORM_FLAGS` are rewritten, only where an option is expected: a real short flag (`-s DIR`,
`-o json`, `-v`), the value of an option that takes one and anything after `--` are left alone.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import click

# kubeconform's flag -> maestro validate's option. Left out: -h (also ours), -v (kubeconform's
# version, our --verbose), -n (a real short option of ours), -insecure-skip-tls-verify (no equivalent).
KUBECONFORM_FLAGS = {
    "-cache": "--cache",
    "-debug": "--debug",
    "-exit-on-error": "--exit-on-error",
    "-ignore-filename-pattern": "--ignore-filename-pattern",
    "-ignore-missing-schemas": "--ignore-missing-schemas",
    "-kubernetes-version": "--kubernetes-version",
    "-output": "--output",
    "-reject": "--reject",
    "-schema-location": "--schema-location",
    "-skip": "--skip",
    "-strict": "--strict",
    "-summary": "--summary",
    "-verbose": "--verbose",
}
# What Go's strconv.ParseBool accepts for `-flag=value`.
TRUE, FALSE = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")


class KubeconformFlags(click.Command):
    """A click command that also takes kubeconform's single-dash long flags."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, rewrite(args, self.params))


def rewrite(args: Sequence[str], params: Iterable[click.Parameter]) -> list[str]:
    options = [p for p in params if isinstance(p, click.Option)]
    takes_value = {name for p in options if not p.is_flag and not p.count for name in p.opts + p.secondary_opts}
    negation = {name: p.secondary_opts[0] for p in options if p.is_flag and p.secondary_opts for name in p.opts}
    flags = {name for p in options if p.is_flag for name in p.opts}
    out: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            return out + list(args[position - 1:])
        name, equals, value = arg.partition("=")
        long = KUBECONFORM_FLAGS.get(name)
        if long in flags and equals:
            out += _boolean(long, value, negation.get(long))
        else:
            out.append(long + equals + value if long else arg)
        if (long or arg) in takes_value and not equals and position < len(args):
            out.append(args[position])   # its value, whatever it looks like
            position += 1
    return out


def _boolean(option: str, value: str, negation: str | None) -> list[str]:
    """`-strict=false` as `--no-strict`, `-summary=true` as `--summary`; another value is left for
    click to refuse (`--summary=maybe`: the option does not take a value)."""
    if value in TRUE:
        return [option]
    if value in FALSE:
        return [negation] if negation else []
    return [f"{option}={value}"]
