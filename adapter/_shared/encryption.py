"""AES-GCM payload encryption: params, step inputs and outputs, events and results stay
ciphertext on the Temporal server.

:class:`EncryptionCodec` is a Temporal ``PayloadCodec``: every payload the client or the worker
sends is serialized, encrypted with AES-256-GCM under the *active* key, and stored as a payload
whose metadata says ``encoding: binary/encrypted`` and ``encryption-key-id: <id>``. Decoding picks
the key by that id, so old histories stay readable after a rotation: put the new key first and
keep the old ones after it.

Keys come from the environment (:func:`load_encryption_keys`):

* ``TEMPFLARE_ENCRYPTION_KEY``: ``id:base64key[,id:base64key...]`` (the first is active), or one
  bare base64 key whose id is derived from its fingerprint;
* ``TEMPFLARE_ENCRYPTION_KEY_FILE``: a file with one ``id:base64key`` per line (``#`` comments),
  the first active.

A key is 32 random bytes, base64-encoded (``python -c "import os,base64;
print(base64.b64encode(os.urandom(32)).decode())"``). Needs the ``cryptography`` package
(``pip install 'tempflare[encryption]'``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from .errors import InvalidValueError

__all__ = [
    "ENCODING",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KEY_ID_METADATA",
    "EncryptionCodec",
    "load_encryption_keys",
]

#: The ``encoding`` metadata of an encrypted payload.
ENCODING: Final = b"binary/encrypted"
#: The metadata key naming the key a payload was encrypted with.
KEY_ID_METADATA: Final = "encryption-key-id"
KEY_ENV: Final = "TEMPFLARE_ENCRYPTION_KEY"
KEY_FILE_ENV: Final = "TEMPFLARE_ENCRYPTION_KEY_FILE"
_NONCE_BYTES: Final = 12
_FIX_KEY: Final = (
    'Give 32 random bytes in base64, e.g. from python -c "import os,base64;'
    'print(base64.b64encode(os.urandom(32)).decode())", optionally as id:base64key.'
)


def _parse_key(text: str, where: str) -> tuple[str, bytes]:
    key_id, sep, encoded = text.strip().rpartition(":")
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise InvalidValueError(
            f"Encryption key {_masked(text)} in {where} is not a base64 AES-256 key "
            f"({len(key)} bytes decoded, 32 needed). {_FIX_KEY}"
        )
    if sep and not key_id.strip():
        raise InvalidValueError(f"Encryption key in {where} has an empty id before ':'.")
    return (key_id.strip() if sep else fingerprint(key)), key


def _masked(text: str) -> str:
    text = text.strip()
    return repr(text[:4] + "..." if len(text) > 8 else "...")


def fingerprint(key: bytes) -> str:
    """The id of a key given without one: ``k`` and 12 hex digits of its SHA-256."""
    return "k" + hashlib.sha256(key).hexdigest()[:12]


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec with key ids in the payload metadata (see the module doc).

    Args:
        keys: ``{key_id: 32-byte key}`` in order, the first being the active one used to
            encrypt; all of them decrypt. Or a single 32-byte key (its id is its fingerprint).
    """

    def __init__(self, keys: Mapping[str, bytes] | bytes) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ImportError(
                "Payload encryption needs the cryptography package: "
                "pip install 'tempflare[encryption]'"
            ) from err
        if isinstance(keys, bytes):
            keys = {fingerprint(keys): keys}
        if not keys:
            raise InvalidValueError(f"EncryptionCodec needs at least one key. {_FIX_KEY}")
        for key_id, key in keys.items():
            if not isinstance(key, bytes) or len(key) != 32:
                raise InvalidValueError(
                    f"Encryption key {key_id!r} must be 32 bytes (AES-256). {_FIX_KEY}"
                )
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id: str = next(iter(keys))

    @property
    def key_ids(self) -> list[str]:
        """The ids of every key that can decrypt, the active one first."""
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.active_key_id]
        key_id = self.active_key_id.encode()
        out = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            data = nonce + cipher.encrypt(nonce, payload.SerializeToString(), key_id)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # written before encryption was turned on
                continue
            key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise InvalidValueError(
                    f"Payload was encrypted with key {key_id!r}, which is not among the "
                    f"configured keys {self.key_ids}. Add it (after the active key) to "
                    f"{KEY_ENV} or {KEY_FILE_ENV} to read it."
                )
            nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
            decoded = Payload()
            decoded.ParseFromString(cipher.decrypt(nonce, sealed, key_id.encode()))
            out.append(decoded)
        return out


class CodecChain(PayloadCodec):
    """Codecs applied in order on encode and in reverse order on decode."""

    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        self.codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encodes with each codec in turn."""
        result = list(payloads)
        for codec in self.codecs:
            result = await codec.encode(result)
        return result

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decodes with each codec, last first."""
        result = list(payloads)
        for codec in reversed(self.codecs):
            result = await codec.decode(result)
        return result


def load_encryption_keys(env: Mapping[str, str] | None = None) -> dict[str, bytes] | None:
    """The keys configured in ``TEMPFLARE_ENCRYPTION_KEY`` or ``TEMPFLARE_ENCRYPTION_KEY_FILE``
    (active first), or ``None`` when neither is set.

    Raises:
        InvalidValueError: A key is not 32 bytes of base64, or the key file is missing or empty.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    keys: dict[str, bytes] = {}
    inline = environ.get(KEY_ENV, "").strip()
    if inline:
        for part in inline.split(","):
            if part.strip():
                key_id, key = _parse_key(part, f"${KEY_ENV}")
                keys.setdefault(key_id, key)
    file_name = environ.get(KEY_FILE_ENV, "").strip()
    if file_name:
        path = Path(file_name).expanduser()
        if not path.is_file():
            raise InvalidValueError(
                f"{KEY_FILE_ENV}={file_name!r} names no file. Point it at a file with one "
                "id:base64key per line, the active key first."
            )
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key_id, key = _parse_key(line, str(path))
                keys.setdefault(key_id, key)
        if not keys:
            raise InvalidValueError(f"{KEY_FILE_ENV} file {path} holds no key.")
    return keys or None
