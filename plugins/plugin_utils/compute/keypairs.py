# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keypairs (Nova's os-keypairs): the catalog keeps public keys only. Key generation and the
file work live here, in compute, not in the catalog: a generated private key is handed back
once, on creation (and optionally written to a file, mode 0600); the catalog never stores it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

try:
    from sqlalchemy import delete, insert, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from ..catalog.errors import Conflict, InvalidInput
from ..catalog.projects import find_project
from ..catalog.quotas import check as check_quota
from ..catalog.resource import Resource, iso, require_name

KEY_TYPES = ("ssh", "x509")


def normalise_ssh_key(text: str) -> str:
    """'type base64' of an OpenSSH public key: comments and spacing do not make keys differ."""
    parts = text.strip().split()
    if len(parts) < 2:
        raise InvalidInput("public_key", "Keypair data is invalid: expected '<type> <base64 key> [comment]'")
    key_type, body = parts[0], parts[1]
    try:
        decoded = base64.b64decode(body.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("public_key", "Keypair data is invalid: the key is not valid base64") from None
    try:
        from cryptography.hazmat.primitives.serialization import load_ssh_public_key

        load_ssh_public_key(f"{key_type} {body}".encode())
    except ImportError:  # cryptography ships with ansible-core; keep going on the base64 check alone
        pass
    except (ValueError, TypeError) as err:
        raise InvalidInput("public_key", f"Keypair data is invalid: {err}") from None
    if not decoded:
        raise InvalidInput("public_key", "Keypair data is invalid: empty key")
    return f"{key_type} {body}"


def ssh_fingerprint(normalised: str) -> str:
    """Nova's fingerprint of an ssh key: MD5 of the key blob, colon-separated hex."""
    digest = hashlib.md5(base64.b64decode(normalised.split()[1]), usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def x509_fingerprint(pem: str) -> tuple[str, str]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        cert = x509.load_pem_x509_certificate(pem.encode())
    except (ValueError, TypeError) as err:
        raise InvalidInput("public_key", f"Keypair data is invalid: not a PEM X.509 certificate ({err})") from None
    digest = cert.fingerprint(hashes.SHA1()).hex()  # Nova's x509 fingerprint is SHA-1
    return pem.strip(), ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate_ssh_key(algorithm: str, comment: str) -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line) made on the controller."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}"


def keypair_record(row: dict, project_name: str | None = None) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "type": row["type"],
        "fingerprint": row["fingerprint"],
        "public_key": row["public_key"],
        "project_id": row["project_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


class Keypair(Resource):
    result_key = "keypair"
    compared = ("public_key",)

    def _project(self, tx):
        return find_project(tx, self.params.get("project"))

    def find(self, tx):
        k = tx.t.keypairs
        row = tx.one_or_none(
            select(k).where(k.c.name == self.params["name"], k.c.project_id == self._project(tx)["id"])
        )
        return keypair_record(row) if row else None

    def _given_key(self) -> str | None:
        p = self.params
        if p.get("public_key_file"):
            path = os.path.expanduser(p["public_key_file"])
            try:
                with open(path, encoding="utf-8") as handle:
                    return handle.read()
            except OSError as err:
                raise InvalidInput("public_key_file", f"cannot read {path}: {err.strerror}") from None
        return p.get("public_key")

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        key_type = p.get("type") or "ssh"
        given = self._given_key()
        state = p.get("state") or "present"
        wanted = {"name": name, "type": key_type}
        if given is not None:
            if key_type == "x509":
                wanted["public_key"], wanted["fingerprint"] = x509_fingerprint(given)
            else:
                wanted["fingerprint"] = ssh_fingerprint(normalise_ssh_key(given))
                wanted["public_key"] = " ".join(given.split())  # stored as given, comment included
        elif state == "replace":
            raise InvalidInput("state", "replace needs public_key or public_key_file (the key to replace it with)")
        elif key_type == "x509":
            raise InvalidInput("public_key", "an x509 keypair needs public_key or public_key_file (a PEM certificate)")
        if current is None:
            private_file = p.get("private_key_file")
            if given is not None and private_file:
                raise InvalidInput("private_key_file", "only for a generated key: omit public_key/public_key_file")
            if private_file and os.path.exists(os.path.expanduser(private_file)):
                raise InvalidInput(
                    "private_key_file", f"{private_file} already exists; remove it or choose another path"
                )
            check_quota(tx, self._project(tx)["id"], key_pairs=1)
            return wanted
        if given is None:
            wanted["public_key"] = current["public_key"]  # a generated key exists: keep it
            return wanted
        if key_type != current["type"]:
            raise Conflict(
                f"Key pair '{name}' is of type {current['type']}, not {key_type}; delete it to change the type."
            )
        same = self._comparable(current["public_key"], key_type) == self._comparable(wanted["public_key"], key_type)
        if not same and state != "replace":
            raise Conflict(
                f"Key pair '{name}' already exists with a different public key (fingerprint {current['fingerprint']}, "
                f"given {wanted['fingerprint']}). Use state: replace to replace it."
            )
        if same:
            wanted["public_key"] = current["public_key"]  # same key, maybe another comment: no change
        return wanted

    @staticmethod
    def _comparable(public_key: str, key_type: str) -> str:
        return normalise_ssh_key(public_key) if key_type == "ssh" else public_key.strip()

    def create(self, tx, desired):
        p = self.params
        public_key = desired.get("public_key")
        private = None
        if public_key is None and self.check_mode:
            # Check mode: no key is made (none could be handed back for real).
            public_key, desired["fingerprint"] = "(generated when the keypair is created)", ""
        elif public_key is None:
            private, line = generate_ssh_key(p.get("key_algorithm") or "rsa", f"Generated-by-ministack {desired['name']}")
            public_key = line
            desired["fingerprint"] = ssh_fingerprint(normalise_ssh_key(line))
        tx.execute(
            insert(tx.t.keypairs),
            {
                "name": desired["name"],
                "project_id": self._project(tx)["id"],
                "type": desired["type"],
                "public_key": public_key,
                "fingerprint": desired["fingerprint"],
                "created_at": tx.now(),
            },
        )
        if private is not None:
            self.generated_private_key = private
            self.hide_result = True
            if p.get("private_key_file") and not self.check_mode:
                self._write_private_key(os.path.expanduser(p["private_key_file"]), private)

    def _write_private_key(self, path: str, private: str):
        # O_EXCL: never overwrite a key file; 0600 from the first byte.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as err:
            raise InvalidInput("private_key_file", f"cannot create {path}: {err.strerror}") from None
        self.on_rollback(lambda: os.path.exists(path) and os.unlink(path), f"removing {path}")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(private)

    def update(self, tx, current, desired, changes):
        k = tx.t.keypairs
        tx.execute(
            update(k)
            .where(k.c.id == current["id"])
            .values(public_key=desired["public_key"], fingerprint=desired["fingerprint"], updated_at=tx.now())
        )

    def delete(self, tx, current):
        tx.execute(delete(tx.t.keypairs).where(tx.t.keypairs.c.id == current["id"]))

    def run(self, tx):
        self.generated_private_key = None
        outcome = super().run(tx)
        if outcome.get(self.result_key) and self.generated_private_key:
            # Handed back once, here; the diff never shows it and the catalog never stores it.
            outcome[self.result_key]["private_key"] = self.generated_private_key
        return outcome


class KeypairInfo(Resource):
    result_key = "keypairs"
    read_only = True

    def run(self, tx):
        k = tx.t.keypairs
        project = find_project(tx, self.params.get("project"))
        query = select(k).where(k.c.project_id == project["id"]).order_by(k.c.name)
        if self.params.get("name"):
            query = query.where(k.c.name == self.params["name"])
        return {"changed": False, "keypairs": [keypair_record(r) for r in tx.all(query)]}
