"""The SQL state store: sync map (durable idempotency record), the writes Xero received, quarantine, credentials.

SQLAlchemy Core on SQLite (default) or PostgreSQL; schema managed by the Alembic migrations shipped in
``clinic_etl/store/migrations`` and applied by :meth:`StateStore.open`.
"""

from .cipher import CredentialKeyError
from .engage import EngageContact, FollowUp, personal_hash
from .records import PendingWrite, QuarantineRecord, SyncRecord
from .store import StateStore
from .tables import WRITE_ACTIONS

__all__ = [
    "WRITE_ACTIONS",
    "CredentialKeyError",
    "EngageContact",
    "FollowUp",
    "PendingWrite",
    "QuarantineRecord",
    "StateStore",
    "SyncRecord",
    "personal_hash",
]
