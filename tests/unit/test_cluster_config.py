"""docker-compose.yml and the local cluster (cluster/local.py) share one server configuration.

Both read cluster/temporal.env (compose as the temporal service's ``env_file``, the script to
render each service process's config and environment) and cluster/dynamicconfig.yaml (compose
mounts it, every local process polls it). These tests pin that they do, and that what each
renders from those values agrees.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter._shared.constants import DEFAULT_NAMESPACE, SEARCH_ATTRIBUTES
from cluster.local import (
    DYNAMIC_CONFIG_FILE,
    ENV_FILE,
    SERVER_VERSION,
    ClusterError,
    layout,
    read_env_file,
    render_server_config,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    result = compose["services"]
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    return read_env_file()


def test_compose_takes_the_server_settings_from_the_shared_file(
    services: dict[str, dict[str, Any]], settings: dict[str, str]
) -> None:
    temporal = services["temporal"]
    assert (ROOT / temporal["env_file"]).resolve() == ENV_FILE
    # Its own environment adds only the database host, never a second value for a shared key.
    assert set(temporal["environment"]) == {"POSTGRES_SEEDS"}
    assert not set(temporal["environment"]) & set(settings)


def test_compose_mounts_the_shared_dynamic_config_where_the_settings_say(
    services: dict[str, dict[str, Any]], settings: dict[str, str]
) -> None:
    mounts = [m.split(":") for m in services["temporal"]["volumes"]]
    (source,) = [
        src for src, target, *_ in mounts if target == settings["DYNAMIC_CONFIG_FILE_PATH"]
    ]
    assert (ROOT / source).resolve() == DYNAMIC_CONFIG_FILE


def test_both_run_the_same_server_version(services: dict[str, dict[str, Any]]) -> None:
    version = SERVER_VERSION.removeprefix("v")
    assert services["temporal"]["image"] == f"temporalio/auto-setup:{version}"
    assert services["temporal-admin-tools"]["image"].split(":")[1].startswith(f"{version}-")


def test_compose_postgres_and_namespace_follow_the_settings(
    services: dict[str, dict[str, Any]], settings: dict[str, str]
) -> None:
    postgres = services["postgresql"]["environment"]
    assert postgres["POSTGRES_USER"] == settings["POSTGRES_USER"]
    assert postgres["POSTGRES_PASSWORD"] == settings["POSTGRES_PWD"]
    assert settings["DEFAULT_NAMESPACE"] == DEFAULT_NAMESPACE
    health = " ".join(services["temporal"]["healthcheck"]["test"])
    assert f"--namespace {settings['DEFAULT_NAMESPACE']}" in health
    admin = " ".join(services["temporal-admin-tools"]["command"])
    assert f"--namespace {settings['DEFAULT_NAMESPACE']}" in admin
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert f"--name {name} --type {kind}" in admin


def test_the_local_cluster_renders_its_config_from_the_same_values(
    settings: dict[str, str],
) -> None:
    processes = layout(17233)
    for process in processes:
        config = render_server_config(
            settings, process, processes, pg_port=17433, dynamic_config=DYNAMIC_CONFIG_FILE
        )
        persistence = config["persistence"]
        assert persistence["numHistoryShards"] == int(settings["NUM_HISTORY_SHARDS"]) > 1
        stores = persistence["datastores"]
        default = stores[persistence["defaultStore"]]["sql"]
        visibility = stores[persistence["visibilityStore"]]["sql"]
        assert default["databaseName"] == settings["DBNAME"]
        assert visibility["databaseName"] == settings["VISIBILITY_DBNAME"]
        for store in (default, visibility):
            assert store["pluginName"] == settings["DB"]
            assert store["user"] == settings["POSTGRES_USER"]
            assert store["password"] == settings["POSTGRES_PWD"]
            assert store["connectAddr"] == "127.0.0.1:17433"
        assert config["dynamicConfigClient"]["filepath"] == str(DYNAMIC_CONFIG_FILE)
        # Each process serves its own service on its own ports.
        own = config["services"][process.service]["rpc"]
        assert (own["grpcPort"], own["membershipPort"]) == (
            process.grpc_port,
            process.membership_port,
        )
        assert config["publicClient"]["hostPort"] == "127.0.0.1:17233"


def test_the_local_cluster_has_every_service_and_two_history_processes() -> None:
    processes = layout(17233)
    assert Counter(p.service for p in processes) == {
        "frontend": 1,
        "history": 2,
        "matching": 1,
        "worker": 1,
    }
    ports = [p.grpc_port for p in processes] + [p.membership_port for p in processes]
    ports += [p.http_port for p in processes if p.http_port is not None]
    assert len(ports) == len(set(ports))


def test_the_dynamic_config_is_valid_and_keeps_tempflares_settings() -> None:
    content = yaml.safe_load(DYNAMIC_CONFIG_FILE.read_text())
    assert content["system.enableActivityEagerExecution"] == [{"value": True}]
    assert content["system.forceSearchAttributesCacheRefreshOnRead"] == [{"value": True}]
    for key, values in content.items():
        assert isinstance(values, list) and all("value" in v for v in values), key


def test_a_malformed_settings_line_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "temporal.env"
    bad.write_text("# ok\nDB=postgres12\nnot a setting\n")
    with pytest.raises(ClusterError, match=r"temporal\.env:3: expected KEY=VALUE"):
        read_env_file(bad)


def test_only_postgres_is_supported_locally(settings: dict[str, str]) -> None:
    processes = layout(17233)
    with pytest.raises(ClusterError, match="DB=mysql8"):
        render_server_config(
            {**settings, "DB": "mysql8"},
            processes[0],
            processes,
            pg_port=1,
            dynamic_config=DYNAMIC_CONFIG_FILE,
        )
