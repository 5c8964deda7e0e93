# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encrypt CHAP secrets for the catalog with the operator's key (``ministack_secret_key``).

Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the operator's passphrase with
PBKDF2-SHA256 and a per-secret salt. Stored as ``fernet1$<salt>$<token>``. The passphrase is
never stored; without it the catalog's CHAP secrets are useless.
"""

from __future__ import annotations

import base64
import os

from .errors import InvalidInput

_SCHEME = "fernet1"
_ITERATIONS = 100_000


def _fernet(passphrase, salt):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=_ITERATIONS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode())))


def _check_key(passphrase):
    if not passphrase or len(str(passphrase)) < 16:
        raise InvalidInput(
            "secret_key is missing or shorter than 16 characters: set the option secret_key (once per play "
            "with module_defaults group/ministack.cloud.catalog) or the variable ministack_secret_key, ideally "
            "from Ansible Vault, so that CHAP secrets can be stored encrypted in the catalog."
        )
    return str(passphrase)


def encrypt(passphrase, plaintext):
    passphrase = _check_key(passphrase)
    salt = os.urandom(16)
    token = _fernet(passphrase, salt).encrypt(plaintext.encode()).decode()
    return f"{_SCHEME}${base64.urlsafe_b64encode(salt).decode()}${token}"


def decrypt(passphrase, stored):
    from cryptography.fernet import InvalidToken

    passphrase = _check_key(passphrase)
    try:
        scheme, salt, token = stored.split("$", 2)
        if scheme != _SCHEME:
            raise ValueError(scheme)
        return _fernet(passphrase, base64.urlsafe_b64decode(salt)).decrypt(token.encode()).decode()
    except (ValueError, InvalidToken) as exc:
        raise InvalidInput(
            "A stored CHAP secret cannot be decrypted with this secret_key (ministack_secret_key): use the key "
            "the volume was created with."
        ) from exc
