"""Scorecard points tables: the format the training command exports and the policy evaluates
at run time.

Convention (stated in every exported table under `scaling`): the score rises with the odds of
repaying. `score = base_points + sum of the points of the bin each characteristic falls in`,
scaled so that `base_score` points mean `base_odds` good:bad odds and every `pdo` more points
double the odds. A characteristic whose value is missing, or a category the training data never
showed, takes its `missing` bin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT: Literal["loanflow-scorecard/1"] = "loanflow-scorecard/1"


class Bin(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lower: float | None = Field(default=None, description="inclusive; None is -infinity")
    upper: float | None = Field(default=None, description="exclusive; None is +infinity")
    categories: list[str] | None = None
    missing: bool = False
    points: float
    woe: float = 0.0
    count: int = 0
    bad_rate: float | None = None


class Characteristic(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    kind: Literal["numeric", "categorical"]
    coefficient: float = 0.0
    bins: list[Bin] = Field(min_length=2)

    @model_validator(mode="after")
    def _bins_cover_every_value(self) -> Characteristic:
        missing = [b for b in self.bins if b.missing]
        if len(missing) != 1:
            raise ValueError(f"{self.name}: exactly one missing bin is required")
        valued = [b for b in self.bins if not b.missing]
        if self.kind == "categorical":
            if any(b.categories is None for b in valued):
                raise ValueError(f"{self.name}: every categorical bin lists its categories")
            return self
        if valued[0].lower is not None or valued[-1].upper is not None:
            raise ValueError(f"{self.name}: numeric bins must run from -inf to +inf")
        for left, right in zip(valued, valued[1:], strict=False):
            if left.upper is None or left.upper != right.lower:
                raise ValueError(f"{self.name}: numeric bins must be contiguous and ordered")
        return self

    def bin_for(self, value: object) -> Bin:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self._missing
        if self.kind == "categorical":
            text = str(value)
            return next(
                (b for b in self.bins if b.categories and text in b.categories), self._missing
            )
        x = float(value)  # type: ignore[arg-type]
        for b in self.bins:
            if b.missing:
                continue
            if (b.lower is None or x >= b.lower) and (b.upper is None or x < b.upper):
                return b
        return self._missing

    @property
    def _missing(self) -> Bin:
        return next(b for b in self.bins if b.missing)


class Scaling(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pdo: float = Field(gt=0, description="points to double the good:bad odds")
    base_score: float = Field(description="the score at base_odds")
    base_odds: float = Field(gt=0, description="good:bad odds at base_score")
    convention: str = "higher score = lower risk; score = base_points + sum(bin points)"


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["loanflow-scorecard/1"] = FORMAT
    name: str
    scaling: Scaling
    base_points: float
    intercept: float = 0.0
    characteristics: list[Characteristic] = Field(min_length=1)
    training: dict[str, object] = {}

    @model_validator(mode="after")
    def _distinct_names(self) -> Scorecard:
        names = [c.name for c in self.characteristics]
        if len(set(names)) != len(names):
            raise ValueError("each characteristic appears once")
        return self

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.characteristics]

    def points(self, values: Mapping[str, object]) -> dict[str, float]:
        """Points of each characteristic for these values (absent keys count as missing)."""
        return {c.name: c.bin_for(values.get(c.name)).points for c in self.characteristics}

    def score(self, values: Mapping[str, object]) -> int:
        return round(self.base_points + sum(self.points(values).values()))

    def bad_probability(self, score: float) -> float:
        """The probability of default the scaling assigns to a score."""
        s = self.scaling
        odds = s.base_odds * 2 ** ((score - s.base_score) / s.pdo)
        return 1 / (1 + odds)
