"""The SQL state store: sync map (durable idempotency record), quarantine, credentials, run audit.

SQLAlchemy Core on SQLite (default) or PostgreSQL; schema managed by the Alembic migrations shipped in
``clinic_etl/store/migrations`` and applied by :meth:`StateStore.open`.
"""

from .cipher import CredentialKeyError
from .records import QuarantineRecord, SyncRecord
from .store import StateStore

__all__ = ["CredentialKeyError", "QuarantineRecord", "StateStore", "SyncRecord"]
