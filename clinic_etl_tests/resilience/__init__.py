"""Resilience: the sync killed at every write point and re-run, and seeded chaos over several days, each ending in
exactly the Xero state of the uninterrupted, fault-free run."""
