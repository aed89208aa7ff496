"""Credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment.

The key is CLINIC_ETL_SECRET_KEY (production), or else a key file that is generated once, mode 0600 (the
embedded sandbox). With neither, the store still opens, but reading or writing a credential is refused: a
credential is never stored unencrypted.

A stored value that is not a Fernet token was written in plain text by an older version: it is read as it is
and re-encrypted at the next write (and when the store is opened with a key). A token that the key does not
decrypt means the key changed: that is a clear error, never a cryptography traceback.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .files import PRIVATE_MODE, tighten

KEY_ENV = "CLINIC_ETL_SECRET_KEY"
MAKE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
#: how long a process that lost the race to create the key file waits for the winner to write it (seconds)
KEY_FILE_WAIT = 5.0

_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_FERNET_VERSION = 0x80
#: version (1) + timestamp (8) + IV (16) + HMAC (32); the ciphertext between IV and HMAC is whole AES blocks
_TOKEN_OVERHEAD = 57
_MIN_TOKEN = _TOKEN_OVERHEAD + 16
_KEY_LENGTH = 44  # a Fernet key: 32 bytes, url-safe base64


class CredentialKeyError(RuntimeError):
    """No key to encrypt credentials with, or the key does not decrypt the stored ones. The message says
    what to do; it never holds a key or a credential."""


def missing_key_message() -> str:
    return (
        f"{KEY_ENV} is not set: credentials cannot be stored unencrypted; make a key with {MAKE_KEY} "
        f"and set {KEY_ENV} to it"
    )


def is_fernet_token(stored: str) -> bool:
    """Whether ``stored`` has the shape of a Fernet token (whatever key made it)."""
    if len(stored) % 4 or not _TOKEN_TEXT.fullmatch(stored):
        return False
    try:
        raw = base64.urlsafe_b64decode(stored.encode("ascii"))
    except (ValueError, binascii.Error):
        return False
    return len(raw) >= _MIN_TOKEN and raw[0] == _FERNET_VERSION and (len(raw) - _TOKEN_OVERHEAD) % 16 == 0


class CredentialCipher:
    """Encrypts and decrypts credential values; ``source`` names where the key came from, for messages."""

    def __init__(self, fernet: Fernet | None, source: str | None = None) -> None:
        self._fernet = fernet
        self._source = source

    @classmethod
    def from_sources(
        cls, secret_key: str | None = None, key_file: str | os.PathLike[str] | None = None
    ) -> CredentialCipher:
        """``secret_key`` if given, else the key in ``key_file`` (created on first use), else no key."""
        if secret_key is not None:
            return cls(_fernet(secret_key.strip().encode(), f"{KEY_ENV} is not a Fernet key"), KEY_ENV)
        if key_file is not None:
            path = Path(key_file).expanduser()
            problem = (
                f"the key file {path} does not hold a Fernet key: restore it, or set {KEY_ENV} "
                "(a new key cannot decrypt the credentials stored with the old one)"
            )
            return cls(_fernet(load_or_create_key_file(path), problem), f"{KEY_ENV} (here the key file {path})")
        return cls(None)

    @property
    def has_key(self) -> bool:
        return self._fernet is not None

    def _key(self) -> Fernet:
        if self._fernet is None:
            raise CredentialKeyError(missing_key_message())
        return self._fernet

    def require_key(self) -> None:
        self._key()

    def encrypt(self, value: str) -> str:
        return self._key().encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, name: str, stored: str) -> str:
        """The value of a stored credential: a Fernet token decrypted, a legacy plain-text value as it is."""
        fernet = self._key()
        if not is_fernet_token(stored):
            return stored  # written in plain text by an older version; re-encrypted at the next write
        try:
            return fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            pass
        raise CredentialKeyError(
            f"{self._source} does not decrypt the stored credential {name!r}: the stored credentials were "
            "encrypted with another key: restore the old key, or delete the credential and re-authorise"
        )


def _fernet(key: bytes, problem: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError, binascii.Error):
        pass
    raise ValueError(f"{problem}; make one with {MAKE_KEY}")


def load_or_create_key_file(path: Path) -> bytes:
    """The key in ``path``; a fresh Fernet key is written there first (mode 0600) if the file does not exist.

    Creation is ``O_CREAT | O_EXCL``: of processes racing to create it, one writes its key and the others read
    that one (waiting up to KEY_FILE_WAIT for it to be written).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        return _read_key_file(path)
    key = Fernet.generate_key()
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # never leave an empty key file behind
        raise
    return key


def _read_key_file(path: Path) -> bytes:
    deadline = time.monotonic() + KEY_FILE_WAIT
    while True:
        key = path.read_bytes().strip()
        if len(key) >= _KEY_LENGTH or time.monotonic() >= deadline:
            break
        time.sleep(0.01)  # another process created it and is writing its key
    tighten(path)
    return key
