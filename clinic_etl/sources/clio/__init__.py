"""Clio Manage (API v4) as a source of clinic_etl: the client (`client.py`) and a window's extract (`extract.py`)."""
