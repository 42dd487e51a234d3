"""maskjax: masked, weighted and thresholded losses and metrics on JAX.

The core is pure JAX (``maskjax.reduce``, ``maskjax.losses``,
``maskjax.metrics``); adapters (``maskjax.torch``, ``maskjax.tf``,
``maskjax.keras``, ``maskjax.flax``) are imported on demand and hold no maths.
"""

from maskjax import losses, masks, metrics, weights
from maskjax._reduction import reduce

__version__ = "0.1.0"

__all__ = ["reduce", "losses", "metrics", "masks", "weights", "__version__"]
