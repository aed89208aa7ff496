"""Thin Dagster assets, one module per stage of the daily sync."""
