"""Plots, labels and the HTML report."""
