"""Forecasts from a park's metered history."""
