"""Class-weight builders computed from targets (jit-able, mask-aware)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from maskjax import _checks
from maskjax._safe_divide import safe_divide
from maskjax._weighting import fold_mask_and_weight, not_ignored, safe_labels

__all__ = ["class_counts", "balanced", "median_frequency"]


def class_counts(targets: Any, num_classes: int, *, mask: Any = None, sample_weight: Any = None,
                 ignore_index: int | None = None) -> jax.Array:
    """Weighted count of each class among the kept targets.

    Args:
      targets: integer class ids of any shape ``[*S]``.
      num_classes: static ``C``.
      mask, sample_weight: broadcast from the left to ``S``.
      ignore_index: a target value that counts nowhere.

    Returns:
      ``[C]`` float32 counts. Labels outside ``[0, C)`` count nowhere.

    Example:
      >>> import maskjax
      >>> maskjax.weights.class_counts([0, 1, 1, 2, -100], 3, ignore_index=-100).tolist()
      [1.0, 2.0, 1.0]
    """
    targets = _checks.as_array(targets, "targets")
    _checks.check_integer(targets, "targets", "class ids")
    num_classes = _checks.check_static_int(num_classes, "num_classes", minimum=1)
    w = fold_mask_and_weight(targets.shape, mask=mask, sample_weight=sample_weight).weight
    valid = not_ignored(targets, ignore_index) & (targets >= 0) & (targets < num_classes)
    ids = safe_labels(targets, valid).reshape(-1)
    return jax.ops.segment_sum(jnp.where(valid, w, 0).reshape(-1), ids, num_segments=num_classes)


def balanced(targets: Any, num_classes: int, *, mask: Any = None, sample_weight: Any = None,
             ignore_index: int | None = None) -> jax.Array:
    r"""scikit-learn's ``class_weight="balanced"``: :math:`w_c = n / (k \cdot n_c)`.

    ``n`` is the (weighted) number of kept targets, ``k`` the number of classes
    present, ``n_c`` the count of class ``c``. Matches
    ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)`` when
    every class is present; a class absent from the targets gets weight 0
    (scikit-learn raises instead).

    Args:
      targets: integer class ids ``[*S]``.
      num_classes: static ``C``.
      mask, sample_weight, ignore_index: as in :func:`class_counts`.

    Returns:
      ``[C]`` float32 class weights.

    Example:
      >>> import maskjax
      >>> [round(x, 4) for x in maskjax.weights.balanced([0, 0, 0, 1], 2).tolist()]
      [0.6667, 2.0]
    """
    counts = class_counts(targets, num_classes, mask=mask, sample_weight=sample_weight,
                          ignore_index=ignore_index)
    present = jnp.sum(counts > 0)
    return safe_divide(jnp.sum(counts), present * counts)


def median_frequency(targets: Any, num_classes: int, *, mask: Any = None, sample_weight: Any = None,
                     ignore_index: int | None = None) -> jax.Array:
    r"""Median-frequency balancing (Eigen & Fergus, 2015): :math:`w_c = \mathrm{median}(f) / f_c`.

    :math:`f_c = n_c / n` is the frequency of class ``c`` over all kept targets
    (the global-frequency variant used by most segmentation code); the median
    is taken over the classes present. Absent classes get weight 0.

    Args:
      targets: integer class ids ``[*S]`` (e.g. ``[B, H, W]`` label maps).
      num_classes: static ``C``.
      mask, sample_weight, ignore_index: as in :func:`class_counts`.

    Returns:
      ``[C]`` float32 class weights; the median-frequency class gets 1.

    Example:
      >>> import maskjax
      >>> maskjax.weights.median_frequency([0, 0, 0, 0, 1, 1, 2], 3).tolist()
      [0.5, 1.0, 2.0]
    """
    counts = class_counts(targets, num_classes, mask=mask, sample_weight=sample_weight,
                          ignore_index=ignore_index)
    freq = safe_divide(counts, jnp.sum(counts))
    present = counts > 0
    median = jnp.nanmedian(jnp.where(present, freq, jnp.nan))
    median = jnp.where(jnp.any(present), median, 0.0)
    return safe_divide(median, freq)
