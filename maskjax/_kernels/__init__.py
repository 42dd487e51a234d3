"""Fast routes, each next to a test that it equals the plain XLA maths it replaces.

* :mod:`maskjax._kernels.host_call` — run a NumPy kernel on XLA's own buffers (``buffer_callback``);
* :mod:`maskjax._kernels.exact_host` — exact AUROC / AP and curve fields sorted on the host (CPU);
* :mod:`maskjax._kernels.argmax` — a vectorised first-index arg-max for XLA:CPU.

The reference maths lives in :mod:`maskjax.metrics` (``curves/_exact.py`` holds the XLA sort route
that ``exact_host`` must equal). Nothing here is public API.
"""
