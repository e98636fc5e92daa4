"""Encryption at rest and callback signing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot import crypto


def test_round_trip_and_ciphertext_hides_text() -> None:
    keyring = crypto.Keyring([crypto.generate_key().encode()])
    token = keyring.encrypt("ik heb schulden bij de deurwaarder 🙈")
    assert "deurwaarder" not in token
    assert keyring.decrypt(token) == "ik heb schulden bij de deurwaarder 🙈"


def test_lone_surrogates_survive() -> None:
    keyring = crypto.Keyring([crypto.generate_key().encode()])
    assert keyring.decrypt(keyring.encrypt("a\ud800b")) == "a\ud800b"


def test_key_file_is_created_private(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "oprit.key"
    assert crypto.load_keyring(None, key_file) is None  # never made silently
    first = crypto.create_key_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = crypto.load_keyring(None, key_file)
    assert again is not None and again.decrypt(first.encrypt("x")) == "x"
    with pytest.raises(FileExistsError):
        crypto.create_key_file(key_file)


def test_old_key_still_decrypts_after_rotation() -> None:
    old, new = crypto.generate_key(), crypto.generate_key()
    token = crypto.Keyring([old.encode()]).encrypt("geheim")
    rotated = crypto.Keyring([new.encode(), old.encode()])
    assert rotated.decrypt(token) == "geheim"
    assert crypto.Keyring([new.encode()]).decrypt(rotated.rotate(token)) == "geheim"


def test_wrong_key_is_a_clear_error() -> None:
    token = crypto.Keyring([crypto.generate_key().encode()]).encrypt("x")
    with pytest.raises(crypto.EncryptionKeyError):
        crypto.Keyring([crypto.generate_key().encode()]).decrypt(token)


@pytest.mark.parametrize("bad", ["", "short", "x" * 44, "ééé"])
def test_malformed_key_is_refused(bad: str) -> None:
    with pytest.raises(crypto.EncryptionKeyError):
        crypto.Keyring([bad.encode()])


def test_signatures_detect_tampering() -> None:
    keyring = crypto.Keyring([crypto.generate_key().encode()])
    signature = keyring.sign("ci:abc:mood_good")
    assert keyring.verify("ci:abc:mood_good", signature)
    assert not keyring.verify("ci:abc:mood_bad", signature)
    assert not keyring.verify("ci:abc:mood_good", "")
    other = crypto.Keyring([crypto.generate_key().encode()])
    assert not other.verify("ci:abc:mood_good", signature)


def test_a_short_signature_is_never_accepted() -> None:
    keyring = crypto.Keyring([crypto.generate_key().encode()])
    full = keyring.sign("al:7:done")
    for length in range(len(full)):
        assert not keyring.verify("al:7:done", full[:length])
    assert keyring.verify("al:7:done", full)
