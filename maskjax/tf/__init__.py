"""TensorFlow adapter: ``tf.Tensor`` in, ``tf.Tensor`` out. No maths.

* :func:`to_jax` / :func:`from_jax` — zero-copy through DLPack (int64 labels
  are range-checked and cast to int32 while x64 is off; GPU work is synced
  because TF passes no stream; TF's host-resident int32 GPU tensors are
  copied).
* :mod:`maskjax.tf.losses` — every core loss, differentiable
  (``tf.GradientTape``), with the core's signature and defaults.
* :mod:`maskjax.tf.metrics` — every core metric function.

Eagerly the core runs on DLPack views of the tensors; inside
``tf.function`` (and Keras ``fit`` on the TF backend) it is converted by
``jax.experimental.jax2tf`` into native TF ops, so ``jit_compile=True``,
``tf.GradientTape`` and SavedModel export work. Only what jax2tf cannot
convert (exact curves on a CPU runtime: host kernels) falls back to
``tf.py_function`` — see :mod:`maskjax.tf._wrap`.

Install: ``pip install "maskjax[tf]"``.

Example:
  >>> import tensorflow as tf, maskjax, maskjax.tf as mtf
  >>> v = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
  >>> m = tf.constant([[1, 1, 0], [1, 0, 0]])
  >>> round(float(mtf.from_jax(maskjax.reduce(mtf.to_jax(v), mask=mtf.to_jax(m)))), 4)
  2.3333
"""

try:
    import tensorflow as _tf  # noqa: F401
except ImportError as _err:  # pragma: no cover - exercised in a subprocess test
    raise ImportError('maskjax.tf needs TensorFlow: pip install "maskjax[tf]" '
                      f"(importing tensorflow failed: {_err})") from _err

from maskjax.tf._convert import from_jax, to_jax
from maskjax.tf._wrap import wrap_loss, wrap_metric
from maskjax.tf import losses, metrics  # noqa: E402

__all__ = ["to_jax", "from_jax", "wrap_loss", "wrap_metric", "losses", "metrics"]
