"""The schema of a model's `meta.json`, read and written through one pydantic model.

A folder whose meta fails the schema is listed as unavailable with the first reason, in words;
everything else in the registry stays usable. No field names a path: the model file is always
`model.keras` beside it, so an unknown field (an old `model_file`, say) is kept but never followed.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Fraction = Annotated[float, Field(ge=0, le=1)]


class Metrics(BaseModel):
    model_config = ConfigDict(extra="allow")

    test_accuracy: Fraction | None = None
    val_accuracy: Fraction | None = None
    auc: Fraction | None = None
    test_loss: float | None = None
    test_samples: int | None = Field(None, ge=0)
    confusion_matrix: list[list[int]] | None = None

    @field_validator("test_loss")
    @classmethod
    def _finite(cls, value):
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class ModelMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["digits", "clothing", "photos"]
    dataset: str = Field(min_length=1)
    class_names: list[str] = Field(min_length=2)
    input_shape: list[Annotated[int, Field(gt=0)]] = Field(min_length=3, max_length=3)
    name: str | None = None
    preset: str | None = None
    backbone: str | None = None
    crop: float = Field(1.0, gt=0, le=1)
    metrics: Metrics = Field(default_factory=Metrics)
    hyperparameters: dict = Field(default_factory=dict)
    epochs_run: int | None = Field(None, ge=0)
    created: str | None = None
    training_command: str | None = None
    run: str | None = None  # the background run that saved it

    @field_validator("class_names")
    @classmethod
    def _distinct(cls, names):
        if len(set(names)) != len(names):
            raise ValueError("must not repeat a name")
        return names


def validate_meta(raw) -> dict:
    """The meta as a plain dict with every field of the schema, or MetaError naming the first problem."""
    try:
        return ModelMeta.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "meta.json"
        raise MetaError(f"meta.json: {where} {_plain(first)}") from None


class MetaError(ValueError):
    """A meta.json that does not fit the schema; the text is the reason shown beside the model."""


def _plain(error: dict) -> str:
    """Pydantic's message in lower case, without its input echo (which can be huge)."""
    if error["type"] == "missing":
        return "is missing"
    message = re.sub(r" or instance of \w+", "", error["msg"] or "is not valid")
    return re.sub(r"^input should", "should", message[0].lower() + message[1:])
