"""``maskjax.keras.Loss``: a maskjax loss as a ``keras.losses.Loss``, Keras' conventions. No maths."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import jax.numpy as jnp
import keras
import numpy as np

import maskjax
import maskjax.losses
from maskjax.keras import _backend

# Losses whose per-element values Keras averages over the last axis per sample
# (keras.losses.mean_squared_error & co. end in ``mean(..., axis=-1)``).
ELEMENT_WISE = ("mean_squared_error", "mean_absolute_error", "huber_loss", "log_cosh",
                "binary_cross_entropy", "focal_loss")
# Losses whose integer targets may be class ids against ``[..., C]`` scores.
CLASS_ID_TARGETS = ("cross_entropy", "softmax_focal_loss", "dice_loss", "generalized_dice_loss",
                    "jaccard_loss", "tversky_loss")
# Losses of one value per sample (or batch) whose core sample_weight weights elements inside the
# overlap: Keras weights the samples' losses (sample_weighted_loss).
OVERLAP = ("dice_loss", "generalized_dice_loss", "jaccard_loss", "tversky_loss")

_KERAS_REDUCTIONS = {"mean_with_sample_weight": "mean", None: "none"}
# Reductions Keras divides by the number of replicas under a tf.distribute strategy (its
# ``reduce_values``): each replica's mean is 1/R of the global one, and Keras sums replicas.
_MEAN_LIKE = ("sum_over_batch_size", "mean", "sum_by_nonzero_weights")


def _resolve(fn: str | Callable) -> Callable:
    if isinstance(fn, str):
        names = [n for n in maskjax.losses.__all__ if callable(getattr(maskjax.losses, n))]
        if fn not in names:
            raise ValueError(f"`fn` must be a maskjax.losses name {names} or a callable, got {fn!r}.")
        return getattr(maskjax.losses, fn)
    if not callable(fn):
        raise TypeError(f"`fn` must be a maskjax loss name or a callable, got {fn!r}.")
    return fn


@functools.lru_cache(maxsize=None)
def _parameters(fn: Callable) -> frozenset:
    """The parameter names of ``fn`` ("**" when it takes any keyword); empty when unknown."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return frozenset(params) | ({"**"} if var_kw else set())


def per_sample_loss(preds: Any, targets: Any, *, loss_fn: Callable, mask: Any = None,
                    sample_weight: Any = None, reduction: str = "sum_over_batch_size",
                    **options: Any) -> Any:
    """Keras' per-sample rule for an element-wise core loss, when the core lacks ``average_axis``.

    The core gives per-element values (``reduction="none"``, no mask or
    weight), :func:`maskjax.reduce` averages them over the last axis (Keras'
    ``mean(..., axis=-1)``) and then applies mask, weight and reduction.
    With a core that has ``average_axis``, :class:`Loss` passes
    ``average_axis=-1`` instead.

    Example:
      >>> import numpy as np, maskjax
      >>> from maskjax.keras._loss import per_sample_loss
      >>> p, t = np.array([[1.0, 3.0], [0.0, 0.0]], np.float32), np.zeros((2, 2), np.float32)
      >>> float(per_sample_loss(p, t, loss_fn=maskjax.losses.mean_squared_error, reduction="sum"))
      5.0
    """
    values = loss_fn(preds, targets, reduction="none", **options)
    per_sample = maskjax.reduce(values, axis=-1, reduction="mean")
    return maskjax.reduce(per_sample, mask=mask, sample_weight=sample_weight, reduction=reduction)


def sample_weighted_loss(preds: Any, targets: Any, *, loss_fn: Callable, sample_weight: Any,
                         mask: Any = None, reduction: str = "sum_over_batch_size", **options: Any) -> Any:
    """Keras' rule for a loss of one value per sample (or one per batch) with a ``[B]`` weight.

    Overlap losses (dice, Tversky, Jaccard) take ``sample_weight`` inside I, P and T in the
    core; Keras weights each sample's loss instead (``Dice(axis=(1, 2, 3))``), and a
    batch-wide loss (``axis=None``) is broadcast to the weights first, as Keras does. The core
    gives the values (``reduction="none"``, the mask inside), :func:`maskjax.reduce` weights and
    reduces them.

    Example:
      >>> import numpy as np, maskjax
      >>> from maskjax.keras._loss import sample_weighted_loss
      >>> t = np.array([[1.0, 0.0], [1.0, 1.0]], np.float32); p = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
      >>> float(sample_weighted_loss(p, t, loss_fn=maskjax.losses.dice_loss, sample_weight=np.array([1.0, 3.0]),
      ...                            smooth=0.0, pool_classes=True, from_logits=False))  # (0·1 + 1·3) / 2
      1.5
    """
    values = loss_fn(preds, targets, mask=mask, reduction="none", **options)
    weight = jnp.asarray(sample_weight)
    values = jnp.broadcast_to(values, weight.shape[:1] + values.shape[1:]) if values.ndim == 0 else values
    return maskjax.reduce(values, sample_weight=weight, reduction=reduction)


def _config_value(v: Any) -> Any:
    return np.asarray(v).tolist() if hasattr(v, "shape") else v


@keras.saving.register_keras_serializable(package="maskjax")
class Loss(keras.losses.Loss):
    """A maskjax loss as a ``keras.losses.Loss`` (for ``model.compile(loss=...)``).

    ``loss(y_true, y_pred, sample_weight)`` aligns the Keras layouts (see
    :mod:`maskjax.keras`), then calls ``fn(y_pred, y_true, mask=<Keras mask of
    y_pred>, sample_weight=sample_weight, from_logits=from_logits,
    reduction=reduction, **options)``. Element-wise losses are first averaged
    over the last axis per sample (Keras' rule).

    Front defaults (Keras'): ``from_logits=False`` (a softmax / sigmoid head;
    the core's default is ``True``) and ``reduction="sum_over_batch_size"``
    (Σ w·v over kept samples / number kept; the core's default is ``"mean"``).

    Args:
      fn: a ``maskjax.losses`` name (``"cross_entropy"``) or any loss with the
        maskjax signature ``fn(preds, targets, *, mask, sample_weight,
        reduction, ...)``.
      from_logits: ``False`` (default): ``y_pred`` are probabilities. Passed
        only to losses that take it.
      reduction: a maskjax reduction: ``"sum_over_batch_size"`` (default,
        Keras 3's rule), ``"sum"``, ``"none"``, ``"sum_by_nonzero_weights"``, or
        ``"mean"`` = Σ w·v / Σ w (maskjax's mean, which Keras calls
        ``"mean_with_sample_weight"``; also accepted). Note: Keras' own
        ``reduction="mean"`` is an alias of ``"sum_over_batch_size"``.
      name: the Keras name (default: the loss name).
      **options: passed to ``fn`` (``class_weight``, ``ignore_index``,
        ``label_smoothing``, ``pos_weight``, ...). ``fit(class_weight=...)``
        reaches the loss as Keras' per-sample ``sample_weight``; for
        per-class weights of any target rank pass ``class_weight=`` here.

    Example:
      >>> import numpy as np, maskjax.keras as mk
      >>> mse = mk.Loss("mean_squared_error")
      >>> float(mse(np.zeros((2, 2)), np.ones((2, 2), np.float32), sample_weight=np.array([1.0, 0.0])))
      0.5
      >>> bce = mk.Loss("binary_cross_entropy")            # sigmoid head [B, 1], labels [B]
      >>> round(float(bce(np.array([1, 0]), np.array([[0.9], [0.2]], np.float32))), 4)
      0.1643
    """

    def __init__(self, fn: str | Callable = "cross_entropy", *, from_logits: bool = False,
                 reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 **options: Any):
        self.fn = _resolve(fn)
        self._fn_id = fn if isinstance(fn, str) else None
        super().__init__(name=name or getattr(self.fn, "__name__", "maskjax_loss"), reduction="none")
        if not isinstance(from_logits, bool):
            raise TypeError(f"`from_logits` must be a bool, got {from_logits!r}.")
        self.from_logits = from_logits
        self.maskjax_reduction = _KERAS_REDUCTIONS.get(reduction, reduction)
        self.options = dict(options)
        params = _parameters(self.fn)
        unknown = sorted(set(options) - params)
        if unknown and params and "**" not in params:  # say so now, not at the first step of fit
            known = sorted(params - {"preds", "targets", "mask", "sample_weight", "reduction", "from_logits"})
            raise TypeError(f"{getattr(self.fn, '__name__', 'the loss')} takes no option(s) {unknown}; "
                            f"its options are {known}.")
        self._kwargs = dict(options)
        if "from_logits" in params:
            self._kwargs["from_logits"] = from_logits
        name_ = getattr(self.fn, "__name__", "")
        core = getattr(maskjax.losses, name_, None) is self.fn
        self._per_sample = core and name_ in ELEMENT_WISE
        self._class_ids = core and name_ in CLASS_ID_TARGETS
        self._overlap = core and name_ in OVERLAP
        self._average_axis = "average_axis" in params

    def _call_core(self, y_true: Any, y_pred: Any, reduction: str, mask: Any = None,
                   sample_weight: Any = None) -> Any:
        y_true, y_pred = _backend.align(y_true, y_pred, class_ids=self._class_ids)
        kwargs = dict(self._kwargs, reduction=reduction)
        if mask is not None:
            kwargs["mask"] = mask
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        if self._overlap and sample_weight is not None and len(getattr(sample_weight, "shape", ())) == 1:
            return _backend.front(sample_weighted_loss, "loss")(y_pred, y_true, loss_fn=self.fn, **kwargs)
        if self._per_sample and len(y_pred.shape) >= 2:
            if self._average_axis:
                kwargs["average_axis"] = -1
            else:
                return _backend.front(per_sample_loss, "loss")(y_pred, y_true, loss_fn=self.fn, **kwargs)
        return _backend.front(self.fn, "loss")(y_pred, y_true, **kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        loss = self._call_core(y_true, y_pred, self.maskjax_reduction, _backend.keras_mask(y_pred),
                               sample_weight)
        if self.maskjax_reduction in _MEAN_LIKE:
            loss = _backend.scale_loss_for_distribution(loss)
        return loss

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample values (``reduction="none"``), as Keras' ``Loss.call``."""
        return self._call_core(y_true, y_pred, "none")

    def get_config(self) -> dict:
        if self._fn_id is None:
            raise NotImplementedError("only losses given by name (mk.Loss('cross_entropy', ...)) "
                                      "can be serialized; a custom callable cannot be saved.")
        return {"fn": self._fn_id, "from_logits": self.from_logits,
                "reduction": self.maskjax_reduction, "name": self.name,
                **{k: _config_value(v) for k, v in self.options.items()}}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)
