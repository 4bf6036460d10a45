"""Scenario sweeps and portfolios on Dask."""
