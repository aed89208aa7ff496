"""New patients into GoHighLevel: client.py (API v2 on the shared HTTP core), contacts.py (pure), load.py."""
