"""``connect()``: a Temporal client configured the way the Temporal CLI and SDKs configure one.

Settings come from :mod:`temporalio.envconfig`, which reads, per profile, the address, namespace,
TLS, API key and gRPC metadata from the ``TEMPORAL_*`` environment variables (``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*``, ...) and from the TOML config
file (``$TEMPORAL_CONFIG_FILE``, else ``temporal.toml`` in the user's config folder, such as
``~/.config/temporalio/temporal.toml``), profile ``$TEMPORAL_PROFILE`` (else ``default``).

Precedence, highest first: the arguments of :func:`connect`, the environment variables, the
profile in the config file, then tempflare's defaults (``localhost:7233``, namespace ``default``,
the pydantic data converter).

The config file describes servers, so it is read when :func:`connect` has to find one (no
``address`` argument) or when a profile is named (``profile=`` or ``TEMPORAL_PROFILE``); an
address the caller chose, such as a local dev server's, does not pick up the TLS settings, API
key or namespace of a default profile written for another cluster.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import platformdirs
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.envconfig import ClientConfigProfile

from .._shared.constants import DEFAULT_ADDRESS, DEFAULT_NAMESPACE
from .._shared.encryption import CodecChain, EncryptionCodec, load_encryption_keys
from .._shared.errors import ConnectionConfigError, TemporalConnectionError
from .._shared.sensitive import tempflare_data_converter

__all__ = [
    "ConnectionConfigError",
    "ConnectionSettings",
    "TemporalConnectionError",
    "connect",
    "data_converter",
    "resolve_connection",
]

#: ``host:port``, the host a name, an IPv4 address or a bracketed IPv6 address; no scheme.
_ADDRESS: Final = re.compile(r"(?:\[[0-9A-Fa-f:.%\w]+\]|[^\s:/\[\]@]+):(\d{1,5})")
_FIX_ADDRESS: Final = (
    "Give it as host:port without a scheme, for example localhost:7233 or "
    "my-namespace.a1b2c.tmprl.cloud:7233."
)


@dataclass(frozen=True)
class ConnectionSettings:
    """What :func:`connect` dials, and where each part came from.

    Attributes:
        address: ``host:port`` of the frontend.
        namespace: The namespace.
        options: Further ``Client.connect`` arguments from the environment or the profile
            (``tls``, ``api_key``, ``rpc_metadata``).
        address_source: Where ``address`` came from, for messages.
        profile: The profile that was read.
        config_file: The config file that was (or would have been) read.
    """

    address: str
    namespace: str
    options: dict[str, Any] = field(default_factory=dict)
    address_source: str = "the default"
    profile: str = "default"
    config_file: Path | None = None


def _default_config_file() -> Path:
    """Where the SDK looks when ``TEMPORAL_CONFIG_FILE`` is unset (the user config folder)."""
    return platformdirs.user_config_path("temporalio", appauthor=False) / "temporal.toml"


def resolve_connection(
    address: str | None = None,
    *,
    namespace: str | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ConnectionSettings:
    """Work out what :func:`connect` would dial, without dialling.

    Args:
        address: ``host:port``; wins over ``TEMPORAL_ADDRESS`` and the profile. Given without
            a profile (argument or ``TEMPORAL_PROFILE``), the config file is not read.
        namespace: Wins over ``TEMPORAL_NAMESPACE`` and the profile.
        profile: Profile of the config file to read; wins over ``TEMPORAL_PROFILE``.
        env: Environment variables to use instead of the process's (for tests).

    Returns:
        The resolved settings.

    Raises:
        ConnectionConfigError: ``TEMPORAL_CONFIG_FILE`` names a missing file, the file does not
            parse, the profile does not exist, or the address is not ``host:port``.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    named_file = environ.get("TEMPORAL_CONFIG_FILE", "").strip()
    config_file = Path(named_file).expanduser() if named_file else _default_config_file()
    read_file = not address or bool(profile or environ.get("TEMPORAL_PROFILE"))
    if read_file and named_file and not config_file.is_file():
        raise ConnectionConfigError(
            f"TEMPORAL_CONFIG_FILE={named_file!r} names no file. Point it at a Temporal config "
            "file (TOML with [profile.<name>] tables holding address, namespace, api_key, tls) "
            "or unset it."
        )
    profile_name = profile or environ.get("TEMPORAL_PROFILE") or "default"
    try:
        loaded = ClientConfigProfile.load(
            profile=profile or None, disable_file=not read_file, override_env_vars=env
        )
    except RuntimeError as err:  # temporal_sdk_bridge.ConfigError
        from_where = "the profile argument" if profile else "$TEMPORAL_PROFILE"
        if "not found" in str(err):
            exists = "" if config_file.is_file() else ", which does not exist"
            raise ConnectionConfigError(
                f"Temporal config profile {profile_name!r} (from {from_where}) is not in "
                f"{config_file}{exists}. Add a [profile.{profile_name}] table there, set "
                "TEMPORAL_CONFIG_FILE to the file that has it, or leave the profile out to use "
                "'default'."
            ) from err
        raise ConnectionConfigError(
            f"Cannot read profile {profile_name!r} of the Temporal config file {config_file}: "
            f"{err}. Fix the file, or set TEMPORAL_CONFIG_FILE to another one."
        ) from err

    options: dict[str, Any] = dict(loaded.to_client_connect_config())
    options.pop("target_host", None)
    configured_namespace = options.pop("namespace", None)
    if address:
        source = "the address argument"
    elif environ.get("TEMPORAL_ADDRESS"):
        address, source = environ["TEMPORAL_ADDRESS"], "$TEMPORAL_ADDRESS"
    elif loaded.address:
        address, source = loaded.address, f"profile {profile_name!r} of {config_file}"
    else:
        address, source = DEFAULT_ADDRESS, "the default"
    address = address.strip()
    match = _ADDRESS.fullmatch(address)
    if match is None or not 0 < int(match.group(1)) < 65536:
        raise ConnectionConfigError(
            f"Invalid Temporal address {address!r} (from {source}). {_FIX_ADDRESS}"
        )
    return ConnectionSettings(
        address=address,
        namespace=namespace or configured_namespace or DEFAULT_NAMESPACE,
        options=options,
        address_source=source,
        profile=profile_name,
        config_file=config_file,
    )


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """tempflare's data converter: pydantic-aware JSON; the :class:`~adapter.SensitiveOutputCodec`
    for ``sensitive="output"`` steps (when ``cryptography`` is installed); then ``codec`` on every
    payload, by default the :class:`~adapter.EncryptionCodec` of the keys in the environment
    (``TEMPFLARE_ENCRYPTION_KEY`` / ``TEMPFLARE_ENCRYPTION_KEY_FILE``), if any."""
    base: DataConverter = tempflare_data_converter(pydantic_data_converter)
    if codec is None:
        keys = load_encryption_keys()
        codec = EncryptionCodec(keys) if keys else None
    if codec is None:
        return base
    sensitive = base.payload_codec
    chained = codec if sensitive is None else CodecChain([sensitive, codec])
    return dataclasses.replace(base, payload_codec=chained)


async def connect(
    address: str | None = None,
    *,
    namespace: str | None = None,
    profile: str | None = None,
    **options: Any,
) -> Client:
    """Connects a Temporal client with tempflare's data converter (pydantic-aware JSON).

    Address, namespace, TLS, API key and gRPC metadata come from the ``TEMPORAL_*`` environment
    variables and the Temporal config file (see the module docstring); explicit arguments win.

    Args:
        address: ``host:port``; default ``$TEMPORAL_ADDRESS``, then the profile, then
            ``localhost:7233``. Given without a profile, the config file is not read.
        namespace: Default ``$TEMPORAL_NAMESPACE``, then the profile, then ``default``.
        profile: Profile of the config file; default ``$TEMPORAL_PROFILE``, then ``default``.
        **options: Passed to ``temporalio.client.Client.connect``; they win over the
            configuration (``tls=``, ``api_key=``, ``data_converter=``...). Without
            ``data_converter=``, payloads are encrypted when ``TEMPFLARE_ENCRYPTION_KEY`` or
            ``TEMPFLARE_ENCRYPTION_KEY_FILE`` is set (see :func:`data_converter`).

    Raises:
        ConnectionConfigError: The settings are unusable (see :func:`resolve_connection`).
        TemporalConnectionError: No server answered at the address.
    """
    settings = resolve_connection(address, namespace=namespace, profile=profile)
    if "data_converter" not in options:
        options["data_converter"] = data_converter()
    arguments = {**settings.options, **options}
    try:
        return await Client.connect(settings.address, namespace=settings.namespace, **arguments)
    except RuntimeError as err:
        if "connect" not in str(err).lower():
            raise
        raise TemporalConnectionError(
            f"Failed client connect: no Temporal server answered at {settings.address} (from "
            f"{settings.address_source}): {err}. Start one (`make run` starts a dev server, as "
            "does `temporal server start-dev`), or point TEMPORAL_ADDRESS, the address argument "
            "or a profile of the Temporal config file at a running server.",
            address=settings.address,
            source=settings.address_source,
        ) from err
