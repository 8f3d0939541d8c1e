"""connect(): settings from temporalio.envconfig (TEMPORAL_* variables and the TOML config file),
explicit arguments first; typed errors for unusable settings and unreachable servers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from adapter import (
    InvalidValueError,
    SensitiveOutputCodec,
    TempflareClientError,
    TempflareError,
    connect,
)
from adapter._client.connection import (
    ConnectionConfigError,
    TemporalConnectionError,
    resolve_connection,
)
from adapter.devserver import find_free_port

PROFILES = """
[profile.default]
address = "file-default:7233"
namespace = "ns-file-default"

[profile.dev]
address = "file-dev:7244"
namespace = "ns-file-dev"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES)
    return path


@pytest.fixture
def empty_config(tmp_path: Path) -> Path:
    """A config file with no profiles, so the user's own ~/.config/temporalio never leaks in."""
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path


# --------------------------------------------------------------------------------------------
# Resolution (no server)
# --------------------------------------------------------------------------------------------


def test_defaults_without_any_configuration(empty_config: Path) -> None:
    settings = resolve_connection(env={"TEMPORAL_CONFIG_FILE": str(empty_config)})
    assert (settings.address, settings.namespace) == ("localhost:7233", "default")
    assert settings.options == {}
    assert settings.address_source == "the default"


def test_environment_variables(empty_config: Path) -> None:
    settings = resolve_connection(
        env={
            "TEMPORAL_CONFIG_FILE": str(empty_config),
            "TEMPORAL_ADDRESS": "env-host:7300",
            "TEMPORAL_NAMESPACE": "ns-env",
            "TEMPORAL_API_KEY": "secret",
            "TEMPORAL_GRPC_META_X_TEAM": "payments",
        }
    )
    assert (settings.address, settings.namespace) == ("env-host:7300", "ns-env")
    assert settings.address_source == "$TEMPORAL_ADDRESS"
    # An API key turns TLS on, as with the Temporal CLI.
    assert settings.options["api_key"] == "secret"
    assert settings.options["tls"] is True
    assert settings.options["rpc_metadata"] == {"x-team": "payments"}


def test_profiles_of_the_config_file(config_file: Path) -> None:
    env = {"TEMPORAL_CONFIG_FILE": str(config_file)}
    default = resolve_connection(env=env)
    assert (default.address, default.namespace) == ("file-default:7233", "ns-file-default")
    assert default.address_source == f"profile 'default' of {config_file}"

    from_env = resolve_connection(env={**env, "TEMPORAL_PROFILE": "dev"})
    assert (from_env.address, from_env.namespace) == ("file-dev:7244", "ns-file-dev")

    # The profile argument wins over TEMPORAL_PROFILE.
    explicit = resolve_connection(profile="dev", env={**env, "TEMPORAL_PROFILE": "default"})
    assert (explicit.address, explicit.namespace, explicit.profile) == (
        "file-dev:7244",
        "ns-file-dev",
        "dev",
    )


def test_precedence_arguments_then_environment_then_profile(config_file: Path) -> None:
    env = {"TEMPORAL_CONFIG_FILE": str(config_file), "TEMPORAL_PROFILE": "dev"}
    # Environment variables override the profile, field by field.
    settings = resolve_connection(env={**env, "TEMPORAL_NAMESPACE": "ns-env"})
    assert (settings.address, settings.namespace) == ("file-dev:7244", "ns-env")
    settings = resolve_connection(env={**env, "TEMPORAL_ADDRESS": "env-host:7300"})
    assert (settings.address, settings.namespace) == ("env-host:7300", "ns-file-dev")
    # Arguments override both.
    settings = resolve_connection(
        "arg-host:7400",
        namespace="ns-arg",
        env={**env, "TEMPORAL_ADDRESS": "env-host:7300", "TEMPORAL_NAMESPACE": "ns-env"},
    )
    assert (settings.address, settings.namespace) == ("arg-host:7400", "ns-arg")
    assert settings.address_source == "the address argument"


def test_an_explicit_address_does_not_pick_up_the_default_profile(config_file: Path) -> None:
    """A default profile written for another cluster must not decorate an address the caller
    chose (a local dev server, say) with its namespace, API key or TLS; naming a profile, or
    setting TEMPORAL_API_KEY and friends, still does."""
    config_file.write_text(
        '[profile.default]\naddress = "cloud.example:7233"\nnamespace = "ns-cloud"\n'
        'api_key = "cloud-key"\n\n[profile.dev]\nnamespace = "ns-dev"\n'
    )
    env = {"TEMPORAL_CONFIG_FILE": str(config_file)}
    local = resolve_connection("127.0.0.1:7233", env=env)
    assert (local.namespace, local.options) == ("default", {})
    from_env = resolve_connection("127.0.0.1:7233", env={**env, "TEMPORAL_NAMESPACE": "ns-env"})
    assert from_env.namespace == "ns-env"
    named = resolve_connection("127.0.0.1:7233", profile="dev", env=env)
    assert (named.address, named.namespace) == ("127.0.0.1:7233", "ns-dev")
    cloud = resolve_connection(env=env)
    assert (cloud.address, cloud.namespace) == ("cloud.example:7233", "ns-cloud")
    assert cloud.options == {"api_key": "cloud-key", "tls": True}


def test_unknown_profile_is_a_typed_error(config_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ConnectionConfigError) as info:
        resolve_connection(profile="staging", env={"TEMPORAL_CONFIG_FILE": str(config_file)})
    error = info.value
    assert isinstance(error, InvalidValueError) and isinstance(error, ValueError)
    assert isinstance(error, TempflareClientError) and isinstance(error, TempflareError)
    message = str(error)
    assert "'staging'" in message and "from the profile argument" in message
    assert str(config_file) in message
    assert "[profile.staging]" in message

    with pytest.raises(ConnectionConfigError, match=r"\$TEMPORAL_PROFILE"):
        resolve_connection(
            env={"TEMPORAL_CONFIG_FILE": str(config_file), "TEMPORAL_PROFILE": "staging"}
        )


def test_config_file_that_is_missing_or_broken(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConnectionConfigError) as info:
        resolve_connection(env={"TEMPORAL_CONFIG_FILE": str(missing)})
    assert f"TEMPORAL_CONFIG_FILE={str(missing)!r} names no file" in str(info.value)

    broken = tmp_path / "broken.toml"
    broken.write_text("[profile.default\naddress = ")
    with pytest.raises(ConnectionConfigError) as info:
        resolve_connection(env={"TEMPORAL_CONFIG_FILE": str(broken)})
    assert str(broken) in str(info.value) and "TOML" in str(info.value)


@pytest.mark.parametrize(
    "address", ["localhost", "http://localhost:7233", "localhost:abc", "host:0", "host:70000"]
)
def test_malformed_address_is_a_typed_error(address: str, empty_config: Path) -> None:
    with pytest.raises(ConnectionConfigError) as info:
        resolve_connection(address, env={"TEMPORAL_CONFIG_FILE": str(empty_config)})
    message = str(info.value)
    assert f"Invalid Temporal address {address!r} (from the address argument)" in message
    assert "host:port" in message


def test_malformed_address_names_its_source(config_file: Path) -> None:
    config_file.write_text('[profile.default]\naddress = "https://cloud.example:7233"\n')
    with pytest.raises(ConnectionConfigError, match=f"from profile 'default' of {config_file}"):
        resolve_connection(env={"TEMPORAL_CONFIG_FILE": str(config_file)})
    with pytest.raises(ConnectionConfigError, match=r"from \$TEMPORAL_ADDRESS"):
        resolve_connection(
            env={"TEMPORAL_CONFIG_FILE": str(config_file), "TEMPORAL_ADDRESS": "no-port"}
        )


def test_well_formed_addresses(empty_config: Path) -> None:
    for address in ("localhost:7233", "10.0.0.5:7233", "[::1]:7233", "ns.acct.tmprl.cloud:7233"):
        env = {"TEMPORAL_CONFIG_FILE": str(empty_config)}
        assert resolve_connection(address, env=env).address == address


# --------------------------------------------------------------------------------------------
# Against the real dev server
# --------------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, empty_config: Path) -> pytest.MonkeyPatch:
    """No TEMPORAL_* connection variable from the outside, and an empty config file."""
    for name in (
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_PROFILE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(empty_config))
    return monkeypatch


def _address(client: Client) -> str:
    return client.service_client.config.target_host


async def _namespace_of(client: Client) -> str:
    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return response.namespace_info.name


@pytest.mark.server
async def test_connect_from_the_environment(
    tempflare_client: Client, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("TEMPORAL_ADDRESS", _address(tempflare_client))
    client = await connect()
    assert _address(client) == _address(tempflare_client)
    assert client.namespace == "default"
    assert await _namespace_of(client) == "default"
    # pydantic JSON, plus the codec that encrypts sensitive step outputs
    assert issubclass(
        client.data_converter.payload_converter_class,
        pydantic_data_converter.payload_converter_class,
    )
    assert isinstance(client.data_converter.payload_codec, SensitiveOutputCodec)


@pytest.mark.server
async def test_connect_with_a_toml_profile(
    tempflare_client: Client, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    namespace = f"envconfig-{uuid.uuid4().hex[:8]}"
    request = RegisterNamespaceRequest(namespace=namespace)
    request.workflow_execution_retention_period.FromTimedelta(timedelta(days=1))
    await tempflare_client.workflow_service.register_namespace(request)
    config = tmp_path / "profiles.toml"
    config.write_text(
        f'[profile.local]\naddress = "{_address(tempflare_client)}"\nnamespace = "{namespace}"\n'
    )
    clean_env.setenv("TEMPORAL_CONFIG_FILE", str(config))

    by_argument = await connect(profile="local")
    assert (_address(by_argument), by_argument.namespace) == (
        _address(tempflare_client),
        namespace,
    )
    assert await _namespace_of(by_argument) == namespace

    clean_env.setenv("TEMPORAL_PROFILE", "local")
    by_variable = await connect()
    assert by_variable.namespace == namespace
    assert await _namespace_of(by_variable) == namespace


@pytest.mark.server
async def test_explicit_arguments_win(
    tempflare_client: Client, clean_env: pytest.MonkeyPatch
) -> None:
    # The environment points at nothing, in a namespace that does not exist...
    clean_env.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{find_free_port()}")
    clean_env.setenv("TEMPORAL_NAMESPACE", "no-such-namespace")
    with pytest.raises(TemporalConnectionError):
        await connect()
    # ... but arguments override it.
    client = await connect(_address(tempflare_client), namespace="default")
    assert await _namespace_of(client) == "default"
    # The namespace from the environment is the one used when no argument overrides it.
    client = await connect(_address(tempflare_client))
    assert client.namespace == "no-such-namespace"
    with pytest.raises(RPCError) as info:
        await _namespace_of(client)
    assert info.value.status == RPCStatusCode.NOT_FOUND


@pytest.mark.server
async def test_unreachable_server_is_a_typed_error(clean_env: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{find_free_port()}"
    clean_env.setenv("TEMPORAL_ADDRESS", address)
    with pytest.raises(TemporalConnectionError) as info:
        await connect()
    error = info.value
    assert isinstance(error, RuntimeError) and isinstance(error, TempflareClientError)
    assert (error.address, error.source) == (address, "$TEMPORAL_ADDRESS")
    message = str(error)
    assert message.startswith(f"Failed client connect: no Temporal server answered at {address}")
    assert "(from $TEMPORAL_ADDRESS)" in message and "make run" in message
    assert isinstance(error.__cause__, RuntimeError)


async def test_malformed_address_fails_before_dialling(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConnectionConfigError, match="Invalid Temporal address 'localhost'"):
        await connect("localhost")
