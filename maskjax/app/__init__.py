"""Application code around the library: the ``maskjax`` command line.

* :mod:`maskjax.app.cli` — ``maskjax demo`` and ``maskjax report``;
* :mod:`maskjax.app.report` — the report (a metric ``Collection`` streamed over file chunks);
* :mod:`maskjax.app.readers` — npy / npz / csv / parquet readers that stream chunks;
* :mod:`maskjax.app.partitions` — the input's partitions (one file per role), chunk and value checks;
* :mod:`maskjax.app.engines` — where partitions run: this process or Dask workers;
* :mod:`maskjax.app.summary` — the per-class table, the JSON and the plots from computed values;
* :mod:`maskjax.app.plots` — the report's figures;
* :mod:`maskjax.app.demo_data` — the synthetic data set ``maskjax demo`` uses.

This package uses the public API of :mod:`maskjax` only; nothing in the core imports it.
"""
