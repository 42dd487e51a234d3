"""Multi-label ranking: precision@k and recall@k (functions, streaming classes, maths).

Per sample, the k highest-scoring kept labels (``lax.top_k``, ties to the lower index) are
compared with the relevant ones: P@k = hits / k, R@k = hits / #relevant; the per-sample values are
averaged with ``sample_weight`` (:class:`~maskjax.metrics._samples_state.SamplesState`). Matches
torchmetrics ``retrieval_precision`` / ``retrieval_recall`` per sample.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Hashable

import jax
import jax.numpy as jnp
from jax import lax

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax.metrics import _format, _invalid
from maskjax.metrics._config import static_zero_division
from maskjax.metrics._confusion import StateSpec, format_inputs, run_data_pass
from maskjax.metrics._samples_state import SamplesState, _sample_weight, _samples_state, samples_compute, samples_init
from maskjax.metrics._streaming import Metric, State, add_into, check_accumulator_dtype

__all__ = ["precision_at_k", "recall_at_k", "PrecisionAtK", "RecallAtK"]


def ranking_update(preds: jax.Array, targets: jax.Array, *, k: int, which: str,
                   mask: Any = None, sample_weight: Any = None, ignore_index: int | None = None,
                   zero_division: Any = 0.0) -> SamplesState:
    """Multi-label precision@k / recall@k per sample (``which`` = "precision" | "recall").

    ``preds`` ``[*S, L]`` float scores, ``targets`` ``[*S, L]`` 0/1. Masked or
    ignored labels leave the ranking (score −inf) and are never relevant. The
    top k come from ``lax.top_k`` (ties to the lower index). P@k = hits / k;
    R@k = hits / #relevant (``zero_division`` when a sample has none).
    """
    preds = jnp.asarray(preds)
    if not jnp.issubdtype(preds.dtype, jnp.floating):
        raise TypeError(f"ranking metrics need float scores as `preds`, got dtype {preds.dtype}.")
    if not 1 <= k <= preds.shape[-1]:
        raise ValueError(f"`k` must be in [1, {preds.shape[-1]}] (the number of labels), got {k}.")
    fmt = format_inputs(preds, targets, task="multilabel", threshold=0.0, mask=mask,
                                sample_weight=None, ignore_index=ignore_index)
    scores = jnp.where(fmt.keep, preds, -jnp.inf)
    _, idx = lax.top_k(scores, k)
    relevant = (fmt.keep & (fmt.targets == 1)).astype(jnp.float32)
    hits = jnp.sum(jnp.take_along_axis(relevant, idx, axis=-1), -1)
    den = jnp.full(hits.shape, float(k)) if which == "precision" else jnp.sum(relevant, -1)
    value = safe_divide(hits, den, zero_division)
    sw = None if sample_weight is None else jnp.asarray(sample_weight)
    return _samples_state(value, jnp.any(fmt.keep, -1), _sample_weight(sw, preds.shape[:-1]))


@dataclasses.dataclass(frozen=True)
class RankingState(StateSpec):
    """Per-sample P@k / R@k sums (:class:`SamplesState`)."""

    which: str = "precision"
    k: int = 1
    zero_division: Any = 0.0

    def init(self, dtype: str) -> SamplesState:
        return samples_init(dtype)

    def update(self, preds: Any, targets: Any, mask: Any, sample_weight: Any, class_weight: Any,
               threshold: Any) -> SamplesState:
        preds, targets = jnp.asarray(preds), jnp.asarray(targets)
        if self.axis is not None:     # the label (item) axis to the end
            preds, targets, mask, sample_weight = _format.class_axis_last(
                preds, targets, task="multilabel", num_classes=None, axis=self.axis, mask=mask,
                sample_weight=sample_weight)
        return ranking_update(preds, targets, k=self.k, which=self.which, mask=mask,
                              sample_weight=sample_weight, ignore_index=self.ignore_index,
                              zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _RankingAtK(Metric):
    """Shared config and update of the multi-label ranking metrics (P@k, R@k)."""

    k: int
    ignore_index: int | None = None
    zero_division: Any = 0.0
    dtype: str | None = None
    axis: int | None = None

    _which: ClassVar[str] = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _checks.check_static_int(self.k, "k", minimum=1))
        object.__setattr__(self, "axis", _format.check_axis(self.axis))
        checked = _format.check_args("multilabel", ignore_index=self.ignore_index)
        object.__setattr__(self, "ignore_index", checked["ignore_index"])
        object.__setattr__(self, "zero_division", static_zero_division(self.zero_division))
        dt = check_accumulator_dtype(self.dtype)
        if dt is not None and not dt.startswith("float"):
            raise ValueError(f"`dtype` of {type(self).__name__} must be None, 'float32' or 'float64', got {dt!r}.")
        object.__setattr__(self, "dtype", dt)

    def state_spec(self) -> RankingState:
        return RankingState("multilabel", None, self.ignore_index, axis=self.axis, which=self._which, k=self.k,
                            zero_division=self.zero_division)

    def state_key(self) -> Hashable:
        return (self.state_spec(), self.dtype)

    def init(self) -> State:
        return self.state_spec().init(self.dtype or "float32")

    def update(self, state: State, preds: Any, targets: Any, *, mask: Any = None,
               sample_weight: Any = None) -> State:
        """Add one batch of ``[*S, L]`` scores and 0/1 relevance (per-sample sums; jit-able).

        Args:
          state: the running state.
          preds: float scores ``[*S, L]``.
          targets: 0/1 relevance ``[*S, L]``.
          mask: bool, broadcast from the left to ``[*S, L]``.
          sample_weight: per sample, broadcast from the left to ``[*S]``.

        Returns:
          The new state.
        """
        inc = self.state_spec().update(preds, targets, mask, sample_weight, None, None)
        return add_into(state, inc, type(self).__name__)

    def evaluate(self, preds: Any, targets: Any, *, mask: Any = None, sample_weight: Any = None) -> jax.Array:
        """The metric of one batch (the data pass jitted per configuration, then compute)."""
        data = (_checks.as_array(preds, "preds"), _checks.as_array(targets, "targets"),
                _checks.as_optional_array(mask, "mask"), _checks.as_optional_array(sample_weight, "sample_weight"))
        _invalid.check_weights(sample_weight)       # NaN / negative weights: ValueError when concrete
        bad = self._any_invalid(*data)
        return _invalid.poison(self.compute(run_data_pass(self.state_spec(), *data, None, None)), bad)

    def compute(self, state: State) -> jax.Array:
        return samples_compute(state, zero_division=self.zero_division)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrecisionAtK(_RankingAtK):
    """Streaming multi-label precision@k (``maskjax.metrics.precision_at_k``).

    State: ``SamplesState`` (Σ s·P@k, Σ s, Σ P@k, count) — per-sample sums, so
    streaming over any split of the samples equals the one-shot value.

    Args:
      k: static int, the cut-off.
      ignore_index: a target value treated like a masked label.
      zero_division: the value when no sample is kept.
      dtype: float accumulator dtype (``"float32"``; ``"float64"`` with x64).

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import PrecisionAtK
      >>> m = PrecisionAtK(k=2)
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> state = m.update(m.update(m.init(), s[:1], y[:1]), s[1:], y[1:])
      >>> float(m.compute(state))
      0.5
    """

    _which: ClassVar[str] = "precision"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecallAtK(_RankingAtK):
    """Streaming multi-label recall@k (``maskjax.metrics.recall_at_k``).

    State: ``SamplesState`` of per-sample sums, as :class:`PrecisionAtK`.

    Args:
      k: static int, the cut-off.
      ignore_index: a target value treated like a masked label.
      zero_division: the value of 0/0 for a sample without relevant labels.
      dtype: float accumulator dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import RecallAtK
      >>> m = RecallAtK(k=2)
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(m(s, y))
      0.75
    """

    _which: ClassVar[str] = "recall"


def _one_shot(cls: type, preds: Any, targets: Any, *, k: int, mask: Any, sample_weight: Any,
              ignore_index: int | None, zero_division: Any, validate: bool, axis: Any = None) -> jax.Array:
    _checks.check_bool(validate, "validate")
    metric = cls(k=k, ignore_index=ignore_index, zero_division=zero_division, axis=axis)
    if validate:
        _format.validate_values(preds, targets, task="multilabel", ignore_index=metric.ignore_index)
    return metric.evaluate(preds, targets, mask=mask, sample_weight=sample_weight)


def precision_at_k(preds: Any, targets: Any, *, k: int, mask: Any = None, sample_weight: Any = None,
                   ignore_index: int | None = None, zero_division: float = 0.0,
                   validate: bool = False, axis: int | None = None) -> jax.Array:
    r"""Multilabel precision@k: the fraction of each sample's top-k labels that are relevant.

    :math:`P@k_i = |\mathrm{top}_k(s_i) \cap \{l: y_{il} = 1\}| / k`, averaged
    over samples with ``sample_weight``. Matches torchmetrics
    ``retrieval_precision(top_k=k)`` per sample (averaged). Masked / ignored
    labels leave the ranking; ties go to the lower label index.

    Args:
      preds: float scores ``[*S, L]``.
      targets: 0/1 relevance ``[*S, L]``.
      k: static int in ``[1, L]``.
      mask: bool, broadcast from the left to ``[*S, L]``; masked labels are
        neither ranked nor relevant. A sample with none kept is skipped.
      sample_weight: per sample, broadcast from the left to ``[*S]``.
      ignore_index: target value treated like a masked label.
      zero_division: value when no sample is kept.
      validate: eager check that targets are 0/1.
      axis: the label (item) axis of ``preds`` / ``targets`` (default last).

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import precision_at_k
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(precision_at_k(s, y, k=2))
      0.5
    """
    return _one_shot(PrecisionAtK, preds, targets, k=k, mask=mask, sample_weight=sample_weight,
                     ignore_index=ignore_index, zero_division=zero_division, validate=validate, axis=axis)


def recall_at_k(preds: Any, targets: Any, *, k: int, mask: Any = None, sample_weight: Any = None,
                ignore_index: int | None = None, zero_division: float = 0.0,
                validate: bool = False, axis: int | None = None) -> jax.Array:
    r"""Multilabel recall@k: the fraction of each sample's relevant labels in its top k.

    :math:`R@k_i = |\mathrm{top}_k(s_i) \cap \{l: y_{il} = 1\}| / |\{l: y_{il}=1\}|`
    (``zero_division`` for a sample with no relevant label), averaged over
    samples with ``sample_weight``. Matches torchmetrics
    ``retrieval_recall(top_k=k)`` per sample.

    Args:
      preds: float scores ``[*S, L]``.
      targets: 0/1 relevance ``[*S, L]``.
      k: static int in ``[1, L]``.
      mask: bool, broadcast from the left to ``[*S, L]``.
      sample_weight: per sample, broadcast from the left to ``[*S]``.
      ignore_index: target value treated like a masked label.
      zero_division: value of 0/0 (sample without relevant labels; nan drops it).
      validate: eager check that targets are 0/1.
      axis: the label (item) axis of ``preds`` / ``targets`` (default last).

    Returns:
      Scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from maskjax.metrics import recall_at_k
      >>> s = jnp.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.1, 0.9, 0.3]])
      >>> y = jnp.array([[1, 0, 0, 1], [0, 0, 1, 0]])
      >>> float(recall_at_k(s, y, k=2))
      0.75
    """
    return _one_shot(RecallAtK, preds, targets, k=k, mask=mask, sample_weight=sample_weight,
                     ignore_index=ignore_index, zero_division=zero_division, validate=validate, axis=axis)
