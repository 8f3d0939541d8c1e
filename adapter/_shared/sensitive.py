"""``sensitive="output"``: a step's output kept out of readable history by a payload codec.

A sensitive step's result payload is marked (metadata ``tempflare-sensitive``) where it is made,
in the worker; :class:`SensitiveOutputCodec`, part of the data converter that
:func:`adapter.connect` installs, encrypts every marked payload with AES-256-GCM before it leaves
the process, so the server stores (and the Web UI, ``temporal workflow show`` and the step-output
API see) only ciphertext. Workers decrypt it on the way back in, so the workflow gets the value.
Unmarked payloads pass untouched: the codec costs nothing for other steps.

The key is 32 bytes, base64 in ``$TEMPFLARE_SENSITIVE_KEY``; without it, a key file in the user's
config directory (``tempflare/sensitive-output.key``, created once, mode 0600). Every worker and
client of one namespace must share the key: set the variable on a real cluster. Needs the
``cryptography`` package (``pip install 'tempflare[sensitive]'``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import PayloadCodec

from .encryption import CodecChain
from .errors import TempflareError

#: Metadata key of a payload that holds (or will hold, once encoded) a sensitive step output.
SENSITIVE_METADATA: Final = "tempflare-sensitive"
_ENCRYPTED: Final = b"binary/tempflare-encrypted"
_KEY_ID: Final = "tempflare-key-id"
KEY_ENV: Final = "TEMPFLARE_SENSITIVE_KEY"


class SensitiveOutputError(TempflareError):
    """The codec cannot work: no ``cryptography``, a bad key, or ciphertext from another key."""


def mark_sensitive(payload: Payload) -> Payload:
    """Marks a payload for encryption by :class:`SensitiveOutputCodec` (in place; returned)."""
    payload.metadata[SENSITIVE_METADATA] = b"output"
    return payload


def is_sensitive(payload: Payload) -> bool:
    """Whether a payload is (or holds, encrypted) a sensitive output."""
    return SENSITIVE_METADATA in payload.metadata


def _key_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("tempflare")) / "sensitive-output.key"


def load_key() -> bytes:
    """The 32-byte key: ``$TEMPFLARE_SENSITIVE_KEY`` (base64), else the user's key file.

    Raises:
        SensitiveOutputError: The variable is not base64 of 32 bytes.
    """
    raw = os.environ.get(KEY_ENV)
    if raw:
        try:
            key = base64.b64decode(raw.strip(), validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise SensitiveOutputError(
                f"${KEY_ENV} must be 32 random bytes in base64 (e.g. from "
                '`python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"`'
                f"), got {len(raw)} characters that are not."
            )
        return key
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64encode(os.urandom(32)))
    return base64.b64decode(path.read_bytes().strip())


class SensitiveOutputCodec(PayloadCodec):
    """Encrypts the payloads marked sensitive (AES-256-GCM); leaves every other one as it is."""

    def __init__(self, key: bytes | None = None) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as err:  # pragma: no cover - exercised without the extra
            raise SensitiveOutputError(
                "sensitive step outputs need the cryptography package: "
                "pip install 'tempflare[sensitive]'."
            ) from err
        self._key = key if key is not None else load_key()
        self._aes: Any = AESGCM(self._key)
        self.key_id = hashlib.sha256(self._key).hexdigest()[:16].encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) if _plain_sensitive(p) else p for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) if _encrypted(p) else p for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._aes.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={
                "encoding": _ENCRYPTED,
                SENSITIVE_METADATA: b"output",
                _KEY_ID: self.key_id,
            },
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get(_KEY_ID) != self.key_id:
            raise SensitiveOutputError(
                "A sensitive step output was encrypted with another key (id "
                f"{payload.metadata.get(_KEY_ID, b'?').decode()}, this process has "
                f"{self.key_id.decode()}); give every worker and client the same "
                f"${KEY_ENV}."
            )
        plain = Payload()
        plain.ParseFromString(self._aes.decrypt(payload.data[:12], payload.data[12:], None))
        return plain


def _plain_sensitive(payload: Payload) -> bool:
    return is_sensitive(payload) and payload.metadata.get("encoding") != _ENCRYPTED


def _encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == _ENCRYPTED


class Sealed:
    """A value whose payload the codec encrypts: wrap a memo value that carries sensitive outputs
    (a continued-as-new run's carried results) in it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class TempflarePayloadConverter(PydanticPayloadConverter):
    """The pydantic JSON converter, plus :class:`Sealed` values marked for the codec."""

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        if not any(isinstance(v, Sealed) for v in values):
            return super().to_payloads(values)
        plain = super().to_payloads([v.value if isinstance(v, Sealed) else v for v in values])
        return [
            mark_sensitive(p) if isinstance(v, Sealed) else p
            for p, v in zip(plain, values, strict=True)
        ]


async def holds_sensitive(codec: PayloadCodec | None, payloads: Sequence[Payload]) -> bool:
    """Whether payloads as stored in history hold a sensitive output: the codecs chained outside
    the sensitive-output codec (payload encryption) are peeled first, since they hide its mark."""
    if isinstance(codec, CodecChain):
        inner = [i for i, c in enumerate(codec.codecs) if isinstance(c, SensitiveOutputCodec)]
        for outer in reversed(codec.codecs[inner[-1] + 1 if inner else 0 :]):
            payloads = await outer.decode(payloads)
    elif codec is not None and not isinstance(codec, SensitiveOutputCodec):
        payloads = await codec.decode(payloads)
    return any(is_sensitive(p) for p in payloads)


def has_sensitive_codec(data_converter: Any) -> bool:
    """Whether a data converter encrypts sensitive outputs (alone, or chained with others)."""
    codec = getattr(data_converter, "payload_codec", None)
    codecs = codec.codecs if isinstance(codec, CodecChain) else [codec]
    return any(isinstance(c, SensitiveOutputCodec) for c in codecs)


def tempflare_data_converter(base: Any) -> Any:
    """``base`` with :class:`SensitiveOutputCodec` as its codec, when ``cryptography`` is there
    and ``base`` has no codec of its own; otherwise ``base`` unchanged."""
    import dataclasses
    import importlib.util

    if getattr(base, "payload_codec", None) is not None:
        return base
    if importlib.util.find_spec("cryptography") is None:
        return base  # sensitive steps then fail, saying which extra to install
    return dataclasses.replace(
        base,
        payload_converter_class=TempflarePayloadConverter,
        payload_codec=SensitiveOutputCodec(),
    )
