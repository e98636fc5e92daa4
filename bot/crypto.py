"""Field-level encryption of message text at rest, and signing of callback data.

Everything a participant writes is sensitive (debts, addiction, a relapse), so it is
stored as Fernet tokens: a copy of the database without the key shows no text.
Several keys may be configured (newest first) so keys can be rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SIGNATURE_LENGTH = 8  # characters of url-safe base64


class EncryptionKeyError(RuntimeError):
    """The encryption key is missing, unreadable, malformed or not the database's."""

    code = 2  # a configuration a person must fix: `oprit` exits 2


class Keyring:
    """The configured keys: the first encrypts, all of them decrypt."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise EncryptionKeyError("no encryption key configured")
        try:
            self._fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError):
            raise EncryptionKeyError(
                "OPRIT_ENCRYPTION_KEY is not a valid key (32 url-safe base64-encoded bytes); "
                "make one with `oprit keys generate`"
            ) from None
        self._multi = MultiFernet(self._fernets)
        self._mac_key = hashlib.sha256(b"oprit-callback:" + keys[0]).digest()
        self.primary_id = hashlib.sha256(keys[0]).hexdigest()[:8]

    def encrypt(self, plain: str) -> str:
        """Encrypt text; the result is ASCII and safe to store in a text column."""
        return self._multi.encrypt(plain.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a stored token with whichever configured key made it."""
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8", "surrogatepass")
        except InvalidToken:
            raise EncryptionKeyError(
                "stored text cannot be decrypted with the configured keys"
            ) from None

    def can_read(self, token: str) -> bool:
        """Whether any configured key decrypts this token."""
        try:
            self.decrypt(token)
        except EncryptionKeyError:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the primary key."""
        return self._multi.rotate(token.encode("ascii")).decode("ascii")

    def sign(self, payload: str) -> str:
        """A short MAC (48 bits) so callback data cannot be forged or altered by a client."""
        digest = hmac.new(self._mac_key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_LENGTH]

    def verify(self, payload: str, signature: str) -> bool:
        """Check a full-length signature made by `sign`, in constant time."""
        return hmac.compare_digest(self.sign(payload).encode(), signature.encode())


_active: Keyring | None = None
_key_file: Path | None = None


def generate_key() -> str:
    """A fresh random key in the format OPRIT_ENCRYPTION_KEY expects."""
    return Fernet.generate_key().decode()


def load_keyring(configured: str | None, key_file: Path) -> Keyring | None:
    """Keys from the environment, else from the key file; None when neither exists (the
    caller decides whether a new key may be made: never when encrypted data exists)."""
    if configured:
        return Keyring([part.strip().encode() for part in configured.split(",") if part.strip()])
    if not key_file.exists():
        return None
    try:
        lines = key_file.read_text().split()
    except OSError as error:
        raise EncryptionKeyError(f"cannot read the key file {key_file}: {error.strerror}") from None
    return Keyring([line.encode() for line in lines if line])


def create_key_file(key_file: Path) -> Keyring:
    """Make a new key file (mode 0600) for a database that holds no encrypted data yet."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(generate_key() + "\n")
    keyring = load_keyring(None, key_file)
    assert keyring is not None
    return keyring


def activate(keyring: Keyring, key_file: Path | None = None) -> None:
    """Make a keyring the one the database columns use; with a key file, a token made by
    a newer key (after `oprit keys rotate`) makes the running process re-read the file."""
    global _active, _key_file
    _active, _key_file = keyring, key_file


def decrypt(token: str) -> str:
    """Decrypt a stored token, re-reading the key file once if a key was rotated."""
    try:
        return active().decrypt(token)
    except EncryptionKeyError:
        reloaded = load_keyring(None, _key_file) if _key_file is not None else None
        if reloaded is None:
            raise
        activate(reloaded, _key_file)
        return active().decrypt(token)


def write_key_file(key_file: Path, keys: list[str]) -> None:
    """Replace the key file atomically (mode 0600), newest key first."""
    temporary = key_file.with_suffix(".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(keys) + "\n")
    os.replace(temporary, key_file)


def keys_in_file(key_file: Path) -> list[str]:
    """The keys stored in a key file, newest first."""
    return [line for line in key_file.read_text().split() if line]


def active() -> Keyring:
    """The keyring in use; set up by the app factory and the CLI before any query."""
    if _active is None:
        raise EncryptionKeyError("encryption is not configured")
    return _active
