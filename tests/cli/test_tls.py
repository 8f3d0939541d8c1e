"""TLS with client certificates (mutual TLS, as Temporal Cloud's mTLS namespaces use), tested
against the session's dev server behind a TLS-terminating proxy (the dev server has no TLS
flags of its own): the CLI with ``--tls-*`` flags, the CLI and a worker with an envconfig
profile, and a refused connection without the client certificate."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.client import Client

from adapter import Workflow, connect, create_worker

from .cli_workflows import CliOrder
from .test_cli import TEMPFLARE

pytestmark = pytest.mark.server


def _issue(
    tmp: Path, name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            False,
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (tmp / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


@contextlib.asynccontextmanager
async def tls_proxy(tmp: Path, upstream: str) -> AsyncIterator[int]:
    """Terminates mutual TLS (HTTP/2 by ALPN) and forwards the bytes to ``upstream``."""
    ca = _issue(tmp, "ca", None)
    _issue(tmp, "server", ca)
    _issue(tmp, "client", ca)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp / "ca.pem"))
    context.load_cert_chain(tmp / "server.pem", tmp / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = upstream.rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("TEMPORAL_ADDRESS", None)
    process = await asyncio.create_subprocess_exec(
        TEMPFLARE,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environment,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_cli_and_worker_over_mutual_tls(
    tempflare_client: Client, task_queue: str, tmp_path: Path
) -> None:
    upstream = tempflare_client.service_client.config.target_host
    async with tls_proxy(tmp_path, upstream) as port:
        address = f"127.0.0.1:{port}"
        flags = [
            "--address",
            address,
            "--tls-ca-path",
            str(tmp_path / "ca.pem"),
            "--tls-server-name",
            "localhost",
        ]
        client_cert = [
            "--tls-cert-path",
            str(tmp_path / "client.pem"),
            "--tls-key-path",
            str(tmp_path / "client.key"),
        ]
        code, out = await cli(
            "workflows", "list", "--json", "--api-key", "test-api-key", *flags, *client_cert
        )
        assert code == 0, out
        assert isinstance(__import__("json").loads(out), list)

        code, out = await cli("workflows", "list", "--json", *flags)  # no client certificate
        assert code == 1, out

        config = tmp_path / "temporal.toml"
        config.write_text(
            f'[profile.secure]\naddress = "{address}"\nnamespace = "default"\n'
            'api_key = "test-api-key"\n'
            "[profile.secure.tls]\n"
            f'client_cert_path = "{tmp_path / "client.pem"}"\n'
            f'client_key_path = "{tmp_path / "client.key"}"\n'
            f'server_ca_cert_path = "{tmp_path / "ca.pem"}"\n'
            'server_name = "localhost"\n'
        )
        profile_env = {"TEMPORAL_CONFIG_FILE": str(config)}
        code, out = await cli("workflows", "list", "--profile", "secure", "--json", env=profile_env)
        assert code == 0, out

        # A worker and a client from the same profile run an instance over mTLS.
        os.environ["TEMPORAL_CONFIG_FILE"] = str(config)
        try:
            client = await connect(profile="secure")
        finally:
            del os.environ["TEMPORAL_CONFIG_FILE"]
        async with create_worker(client, task_queue=task_queue, workflows=[CliOrder]):
            binding = Workflow(client, CliOrder, task_queue=task_queue)
            instance = await binding.create({"params": {"order": "TLS"}})
            await asyncio.sleep(1.5)
            code, out = await cli(
                "instances",
                "send-event",
                "CliOrder",
                instance.id,
                "approved",
                '{"by": "tls"}',
                "--profile",
                "secure",
                env=profile_env,
            )
            assert code == 0, out
            result = await instance.handle.result()
        assert result == {"status": "shipped", "shipped": "TLS", "by": "tls"}
