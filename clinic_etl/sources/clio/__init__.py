"""Clio Manage (API v4) as a source of clinic_etl: the client (`client.py`), a window's extract (`extract.py`), the raw
frames' schemas (`schemas.py`) and their mapping to the practice ledger (`to_ledger.py`, with `bills`, `allocations`,
`credits` and `contacts`)."""
