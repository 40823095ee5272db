"""One exception family for everything a user can get wrong.

Every message says what was wrong, where (file, row, field or configuration) and what to do.
The CLI prints ``str(error)`` as one line and exits 2; anything that is not a ``SpecnbError``
is a bug and keeps its traceback. All errors are pickle-safe because ``--jobs`` workers send
them back across processes.
"""

from __future__ import annotations

from dataclasses import dataclass


class SpecnbError(Exception):
    """Base class: a problem with the user's input, options or environment."""

    def __reduce__(self):
        return (self.__class__, self.args)


class UsageError(SpecnbError):
    """A command-line option or API argument has a value we cannot use."""

    @classmethod
    def unknown_choice(cls, what: str, value: object, choices) -> UsageError:
        listed = ", ".join(sorted(str(c) for c in choices)) or "(none)"
        return cls(f"unknown {what} {value!r}; choose one of: {listed}")


class FormatError(SpecnbError):
    """A file is not one of the benchmark formats specnb reads, or is not readable at all."""


class CostTableError(SpecnbError):
    """A cost/power table (bundled, user file or override) is unusable."""


class BuildError(SpecnbError):
    """One or more report configurations failed to build."""


class MissingDependencyError(SpecnbError):
    """An optional dependency is not installed; the message says what to pip install."""

    @classmethod
    def for_module(cls, module: str, extra: str) -> MissingDependencyError:
        return cls(f"{module} is not installed; run: pip install 'specnb[{extra}]'")


@dataclass(frozen=True)
class Problem:
    """One bad value found while validating input: where it is and what was expected."""

    path: str
    row: int | None
    field: str
    value: object
    expected: str
    conc: object = None

    def describe(self) -> str:
        where = self.path
        if self.row is not None:
            where += f" row {self.row}"
        if self.conc is not None:
            where += f" (conc {self.conc})"
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{where}: field {self.field!r} is {shown}, expected {self.expected}"


class DataError(SpecnbError):
    """Benchmark rows with bad values. Carries the first problem and how many there were."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = tuple(problems)

    def __reduce__(self):
        return (self.__class__, (self.args[0], self.problems))

    @property
    def path(self) -> str | None:
        return self.problems[0].path if self.problems else None

    @property
    def field(self) -> str | None:
        return self.problems[0].field if self.problems else None

    @property
    def row(self) -> int | None:
        return self.problems[0].row if self.problems else None

    @classmethod
    def from_problems(cls, problems) -> DataError:
        problems = tuple(problems)
        first = problems[0].describe()
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''}; nothing was loaded)" if more else \
            " (nothing was loaded)"
        return cls(first + suffix, problems)
