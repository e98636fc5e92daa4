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
    """The configured keys: the first encrypts, all of them decrypt.

    With a key file, a token made by a key this keyring does not know yet (after `oprit
    keys rotate` added one) makes it re-read the file once, so a running process keeps
    reading what the rotation wrote."""

    def __init__(self, keys: list[bytes], key_file: Path | None = None) -> None:
        self.key_file = key_file
        self._use(keys)

    def _use(self, keys: list[bytes]) -> None:
        if not keys:
            raise EncryptionKeyError("no encryption key configured")
        try:
            fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError):
            raise EncryptionKeyError(
                "OPRIT_ENCRYPTION_KEY is not a valid key (32 url-safe base64-encoded bytes); "
                "make one with `oprit keys generate`"
            ) from None
        self._keys = list(keys)
        self._multi = MultiFernet(fernets)
        self._mac_key = hashlib.sha256(b"oprit-callback:" + keys[0]).digest()
        self.primary_id = hashlib.sha256(keys[0]).hexdigest()[:8]

    def _reload(self) -> bool:
        """Re-read the key file; True when it holds keys this keyring did not have."""
        if self.key_file is None or not self.key_file.exists():
            return False
        keys = [line.encode() for line in self.key_file.read_text().split() if line]
        if keys == self._keys:
            return False
        self._use(keys)
        return True

    def encrypt(self, plain: str) -> str:
        """Encrypt text; the result is ASCII and safe to store in a text column."""
        return self._multi.encrypt(plain.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a stored token with whichever configured key made it."""
        for attempt in range(2):
            try:
                plain = self._multi.decrypt(token.encode("ascii"))
                return plain.decode("utf-8", "surrogatepass")
            except InvalidToken:
                if attempt or not self._reload():
                    break
        raise EncryptionKeyError("stored text cannot be decrypted with the configured keys")

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

    def lookup_hashes(self, value: str) -> list[str]:
        """Keyed hashes of `value`, one per configured key, the primary key's first: a
        column that must be found by an encrypted value (a phone number) stores the
        primary's, and a search asks for all of them, so a key rotation finds old rows."""
        return [
            hmac.new(
                hashlib.sha256(b"oprit-lookup:" + key).digest(), value.encode(), hashlib.sha256
            ).hexdigest()
            for key in self._keys
        ]

    def verify(self, payload: str, signature: str) -> bool:
        """Check a full-length signature made by `sign`, in constant time."""
        return hmac.compare_digest(self.sign(payload).encode(), signature.encode())


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
    return Keyring([line.encode() for line in lines if line], key_file)


def create_key_file(key_file: Path) -> Keyring:
    """Make a new key file (mode 0600) for a database that holds no encrypted data yet."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(generate_key() + "\n")
    keyring = load_keyring(None, key_file)
    assert keyring is not None
    return keyring


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
