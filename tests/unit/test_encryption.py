"""The AES-GCM codec: round trip, key rotation by key id, tampering, key configuration, and the
codec server's HTTP protocol with CORS."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import urllib.request
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from adapter import EncryptionCodec, InvalidValueError
from adapter._shared.encryption import load_encryption_keys
from adapter.cli.codec_server import CodecServer

OLD, NEW = os.urandom(32), os.urandom(32)
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"card": "4242"}')


async def test_round_trip_hides_the_data_and_names_the_key() -> None:
    codec = EncryptionCodec({"k1": OLD})
    (sealed,) = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"4242" not in sealed.data
    assert await codec.decode([sealed]) == [PLAIN]
    (again,) = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce each time


async def test_rotation_encrypts_with_the_first_key_and_reads_the_old_ones() -> None:
    (old_payload,) = await EncryptionCodec({"k1": OLD}).encode([PLAIN])
    rotated = EncryptionCodec({"k2": NEW, "k1": OLD})
    (new_payload,) = await rotated.encode([PLAIN])
    assert new_payload.metadata["encryption-key-id"] == b"k2"
    assert await rotated.decode([old_payload, new_payload]) == [PLAIN, PLAIN]
    with pytest.raises(InvalidValueError, match="'k1', which is not among"):
        await EncryptionCodec({"k2": NEW}).decode([old_payload])


async def test_tampering_and_plain_payloads() -> None:
    codec = EncryptionCodec(OLD)
    (sealed,) = await codec.encode([PLAIN])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([sealed])
    assert await codec.decode([PLAIN]) == [PLAIN]  # written before encryption was on


def test_keys_from_the_environment_and_a_key_file(tmp_path: Path) -> None:
    new, old = base64.b64encode(NEW).decode(), base64.b64encode(OLD).decode()
    keys = load_encryption_keys({"TEMPFLARE_ENCRYPTION_KEY": f"k2:{new},k1:{old}"})
    assert keys == {"k2": NEW, "k1": OLD}
    bare = load_encryption_keys({"TEMPFLARE_ENCRYPTION_KEY": new})
    assert bare is not None and list(bare.values()) == [NEW] and next(iter(bare)).startswith("k")
    file = tmp_path / "keys"
    file.write_text(f"# active first\nk2:{new}\n\nk1:{old}\n")
    assert load_encryption_keys({"TEMPFLARE_ENCRYPTION_KEY_FILE": str(file)}) == keys
    assert load_encryption_keys({}) is None
    with pytest.raises(InvalidValueError, match="32 needed"):
        load_encryption_keys({"TEMPFLARE_ENCRYPTION_KEY": "k:" + base64.b64encode(b"x").decode()})
    with pytest.raises(InvalidValueError, match="names no file"):
        load_encryption_keys({"TEMPFLARE_ENCRYPTION_KEY_FILE": str(tmp_path / "missing")})


def test_codec_server_encodes_decodes_and_answers_cors() -> None:
    server = CodecServer(EncryptionCodec({"k1": OLD}), port=0, origins=["http://ui:8233"]).start()
    try:

        def post(path: str, body: dict[str, object]) -> tuple[dict[str, object], str | None]:
            request = urllib.request.Request(
                server.url + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Origin": "http://ui:8233"},
            )
            with urllib.request.urlopen(request) as response:
                return json.load(response), response.headers["Access-Control-Allow-Origin"]

        plain = {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'"hi"').decode(),
        }
        encoded, origin = post("/encode", {"payloads": [plain]})
        assert origin == "http://ui:8233"
        sealed = encoded["payloads"][0]  # type: ignore[index]
        assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
        decoded, _ = post("/decode", encoded)
        assert decoded == {"payloads": [plain]}

        preflight = urllib.request.Request(
            server.url + "/decode",
            method="OPTIONS",
            headers={"Origin": "http://ui:8233", "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(preflight) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "http://ui:8233"
            assert "X-Namespace" in response.headers["Access-Control-Allow-Headers"]
        other = urllib.request.Request(
            server.url + "/decode", method="OPTIONS", headers={"Origin": "http://evil"}
        )
        with urllib.request.urlopen(other) as response:
            assert response.headers["Access-Control-Allow-Origin"] is None
    finally:
        server.stop()


async def test_the_data_converter_chains_sensitive_outputs_and_encryption() -> None:
    """With a key configured, every payload is encrypted once more after the sensitive-output
    codec: decoding runs the codecs in reverse and gives the value back."""
    from adapter._client.connection import data_converter
    from adapter._shared.encryption import CodecChain
    from adapter._shared.sensitive import SensitiveOutputCodec

    converter = data_converter(EncryptionCodec({"k1": OLD}))
    chain = converter.payload_codec
    assert isinstance(chain, CodecChain)
    assert [type(c) for c in chain.codecs] == [SensitiveOutputCodec, EncryptionCodec]
    (encoded,) = await converter.encode([{"card": "4242"}])
    assert b"4242" not in encoded.SerializeToString()
    assert encoded.metadata["encryption-key-id"] == b"k1"
    assert await converter.decode([encoded]) == [{"card": "4242"}]
    # without a key, only the sensitive-output codec (which leaves unmarked payloads alone)
    plain = data_converter()
    assert isinstance(plain.payload_codec, SensitiveOutputCodec)


def test_a_worker_with_encryption_on_still_protects_sensitive_outputs() -> None:
    """The worker checks for the sensitive-output codec before it runs a sensitive step; chained
    behind payload encryption, the codec is still found."""
    from adapter._client.connection import data_converter
    from adapter._shared.sensitive import has_sensitive_codec

    assert has_sensitive_codec(data_converter())
    assert has_sensitive_codec(data_converter(EncryptionCodec({"k1": OLD})))
    assert not has_sensitive_codec(dataclasses.replace(data_converter(), payload_codec=None))
