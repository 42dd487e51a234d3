"""Keras 3 front: maskjax losses and metrics in ``model.compile``, Keras' conventions. No maths.

* :class:`Loss` — a ``keras.losses.Loss`` calling a maskjax loss.
* :class:`Metric` — a ``keras.metrics.Metric`` keeping a maskjax streaming
  metric's additive state as Keras variables.

The front follows Keras, explicitly (the core's own defaults differ):

* ``from_logits=False``: predictions are probabilities (a ``softmax`` /
  ``sigmoid`` head), as in every Keras loss.
* Layouts: ``[B]`` labels against ``[B, 1]`` predictions are aligned (as
  Keras' ``squeeze_or_expand_to_same_rank``); ``[B, 1]`` class ids against
  ``[B, C]`` scores are squeezed (``SparseCategoricalCrossentropy``); float
  class-id labels (Keras often hands ``y`` over as float32) are cast to int32.
* Element-wise losses (``mean_squared_error``, ``mean_absolute_error``,
  ``huber_loss``, ``log_cosh``, ``binary_cross_entropy``, ``focal_loss``) are
  averaged over the last axis per sample before mask / weight / reduction, as
  Keras' ``mean(..., axis=-1)``; the reduction is ``"sum_over_batch_size"``.
* Keras masks (``Masking``, ``Embedding(mask_zero=True)``) and
  ``sample_weight`` reach maskjax's ``mask=`` / ``sample_weight=`` (a ``[B]``
  weight against ``[B, T]`` elements broadcasts from the left, where Keras
  raises).
* Metrics accumulate in float32 like Keras' own (so ``weighted_metrics`` and
  ``fit(sample_weight=...)`` work on default metric objects), and
  ``class_id=k`` reports class ``k`` as one scalar.
* Serializable: both classes are registered
  (``keras.saving.register_keras_serializable(package="maskjax")``) and carry
  the wrapped maskjax configuration, so ``model.save`` → ``load_model``
  round-trips.

Backends: JAX (the core runs inside Keras' jitted step), TensorFlow (through
:mod:`maskjax.tf`: native TF ops by jax2tf, so ``jit_compile=True`` works),
torch (through :mod:`maskjax.torch`).

Install: ``pip install "maskjax[keras]"``.

Example:
  >>> import numpy as np, maskjax, maskjax.keras as mk
  >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)   # a softmax head
  >>> y = np.array([0.0, 2.0], np.float32)                                 # Keras float labels
  >>> round(float(mk.Loss("cross_entropy")(y, probs)), 4)                 # = Keras SparseCE
  0.2899
  >>> acc = mk.Metric(maskjax.metrics.Accuracy(task="multiclass", num_classes=3))
  >>> acc.update_state(y, probs, sample_weight=np.array([1.0, 3.0]))
  >>> float(acc.result())
  1.0
"""

try:
    import keras as _keras  # noqa: F401
except ImportError as _err:  # pragma: no cover - exercised in a subprocess test
    raise ImportError('maskjax.keras needs Keras 3: pip install "maskjax[keras]" '
                      f"(importing keras failed: {_err})") from _err

from maskjax.keras._loss import Loss
from maskjax.keras._metric import Metric

__all__ = [
    "Loss",
    "Metric",
]
