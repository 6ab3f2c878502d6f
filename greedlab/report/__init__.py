"""Figures and (later) the HTML report built from the results store."""
