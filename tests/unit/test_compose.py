"""Static checks of docker-compose.yml and the worker Dockerfile (no Docker needed)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter._shared.constants import (
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    SEARCH_ATTRIBUTES,
)
from adapter.devserver import TEMPORAL_CLI_VERSION
from cluster.local import read_env_file

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

EXPECTED_SERVICES = {
    "postgresql",
    "temporal",
    "temporal-ui",
    "temporal-admin-tools",
    "worker",
    # the bindings' backends
    "app-db",
    "valkey",
    "s3",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


def _env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment: its ``env_file``s, then ``environment`` (either syntax)."""
    merged: dict[str, str] = {}
    env_files = service.get("env_file", [])
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        merged.update(read_env_file(ROOT / env_file))
    env = service.get("environment", {})
    if isinstance(env, list):
        return merged | dict(item.split("=", 1) for item in env)
    return merged | {key: str(value) for key, value in env.items()}


def _command_text(service: dict[str, Any]) -> str:
    parts = [service.get("entrypoint", []), service.get("command", [])]
    text: list[str] = []
    for part in parts:
        text.extend([part] if isinstance(part, str) else part)
    return " ".join(text)


def _image_tag(image: str) -> str:
    _, sep, tag = image.rpartition(":")
    assert sep and "/" not in tag, f"image {image!r} has no tag"
    return tag


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


# --------------------------------------------------------------------------------------------


def test_expected_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == EXPECTED_SERVICES


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name == "worker":
            assert "build" in service and "image" not in service
            continue
        tag = _image_tag(service["image"])
        assert tag != "latest", f"{name} uses :latest"
        assert re.match(r"^\d+(\.\d+)*([-.][\w.-]+)?$", tag), f"{name}: unpinned tag {tag!r}"


def test_versions_match_the_dev_server(services: dict[str, dict[str, Any]]) -> None:
    # CLI v1.5.1 embeds server 1.29.1 and UI 2.42.1; the cluster must run the same versions.
    assert TEMPORAL_CLI_VERSION == "v1.5.1"
    assert services["temporal"]["image"] == "temporalio/auto-setup:1.29.1"
    assert services["temporal-ui"]["image"] == "temporalio/ui:2.42.1"
    assert _image_tag(services["temporal-admin-tools"]["image"]).startswith("1.29.1")
    assert services["postgresql"]["image"].startswith("postgres:16")


def test_published_ports(services: dict[str, dict[str, Any]]) -> None:
    published = {
        name: [str(p) for p in service.get("ports", [])] for name, service in services.items()
    }
    assert published["temporal"] == ["7233:7233"]
    assert published["temporal-ui"] == ["8080:8080"]
    # Nothing else is exposed on the host.
    assert all(
        not ports for name, ports in published.items() if name not in ("temporal", "temporal-ui")
    )


def test_temporal_uses_postgres(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["temporal"])
    assert env["DB"] == "postgres12"
    assert env["DB_PORT"] == "5432"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_SEEDS"] in services


def test_postgres_credentials_match(services: dict[str, dict[str, Any]]) -> None:
    temporal = _env(services["temporal"])
    postgres = _env(services["postgresql"])
    assert temporal["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == postgres["POSTGRES_PASSWORD"]
    # The healthcheck logs in as the same user.
    assert f"-U {postgres['POSTGRES_USER']}" in " ".join(
        services["postgresql"]["healthcheck"]["test"]
    )


def test_postgres_data_in_named_volume(compose: dict[str, Any], services: dict[str, Any]) -> None:
    mounts = services["postgresql"]["volumes"]
    sources = {m.split(":", 1)[0]: m.split(":", 1)[1] for m in mounts}
    named = [src for src in sources if src in (compose.get("volumes") or {})]
    assert named, f"postgres data is not on a named volume: {mounts}"
    assert sources[named[0]] == "/var/lib/postgresql/data"


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    pg = " ".join(services["postgresql"]["healthcheck"]["test"])
    assert "pg_isready" in pg
    temporal = " ".join(services["temporal"]["healthcheck"]["test"])
    assert "cluster health" in temporal
    assert "--address temporal:7233" in temporal


def test_depends_on_conditions(services: dict[str, dict[str, Any]]) -> None:
    def conditions(name: str) -> dict[str, str]:
        deps = services[name]["depends_on"]
        assert isinstance(deps, dict), f"{name}: depends_on needs conditions"
        return {dep: spec["condition"] for dep, spec in deps.items()}

    assert conditions("temporal") == {"postgresql": "service_healthy"}
    assert conditions("temporal-ui") == {"temporal": "service_healthy"}
    assert conditions("temporal-admin-tools") == {"temporal": "service_healthy"}
    assert conditions("worker") == {
        "temporal": "service_healthy",
        "temporal-admin-tools": "service_completed_successfully",
        "app-db": "service_healthy",
        "valkey": "service_healthy",
        "s3": "service_healthy",
    }
    # Every service it waits on for health actually has a healthcheck.
    for service in services.values():
        for dep, spec in (service.get("depends_on") or {}).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], dep


def test_ui_points_at_temporal(services: dict[str, dict[str, Any]]) -> None:
    assert _env(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_environment(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["worker"])
    host, _, port = env["TEMPORAL_ADDRESS"].partition(":")
    assert host == "temporal" and host in services
    assert port == "7233"
    assert env["TEMPORAL_NAMESPACE"] == DEFAULT_NAMESPACE
    assert env["TEMPORAL_TASK_QUEUE"] == DEFAULT_TASK_QUEUE


def test_admin_tools_registers_every_search_attribute(services: dict[str, dict[str, Any]]) -> None:
    admin = services["temporal-admin-tools"]
    text = _command_text(admin)
    tokens = shlex.split(text.replace(";", " ; "))
    creates = [
        i
        for i in range(len(tokens) - 2)
        if tokens[i : i + 3] == ["operator", "search-attribute", "create"]
    ]
    assert len(creates) == 1, text
    start = creates[0]
    end = tokens.index(";", start) if ";" in tokens[start:] else len(tokens)
    create = tokens[start:end]

    names = [create[i + 1] for i, tok in enumerate(create) if tok == "--name"]
    types = [create[i + 1] for i, tok in enumerate(create) if tok == "--type"]
    assert dict(zip(names, types, strict=True)) == SEARCH_ATTRIBUTES
    assert create[create.index("--namespace") + 1] == DEFAULT_NAMESPACE
    assert create[create.index("--address") + 1] == "temporal:7233"
    # Fail the job (and so block the worker) if registration fails.
    assert "set -e" in text
    assert admin.get("restart", "no") == "no"


def test_dynamic_config_is_mounted(compose: dict[str, Any], services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    path = _env(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    (source,) = [m.split(":")[0] for m in temporal["volumes"] if m.split(":")[1] == path]
    content = yaml.safe_load((ROOT / source).read_text())
    assert content["system.enableActivityEagerExecution"] == [{"value": True}]


def test_worker_builds_this_repository(services: dict[str, dict[str, Any]]) -> None:
    build = services["worker"]["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE


def test_dockerfile_runs_worker() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    cmd = [arg for keyword, arg in instructions if keyword == "CMD"]
    assert cmd == ['["python", "worker.py"]']
    runs = " ".join(arg for keyword, arg in instructions if keyword == "RUN")
    # the library with the extras the examples use (bindings over httpx, the AI binding) and
    # the drivers of the bindings' production backends
    assert "pip install '.[bindings,ai,postgres,redis,s3]'" in runs
    copied = [arg.split()[0] for keyword, arg in instructions if keyword == "COPY"]
    assert "worker.py" in copied
    assert "pyproject.toml" in copied


def test_dockerfile_copies_every_package_in_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    # the wheel's package, and the examples the worker imports from the folder
    packages = {pattern.split(".")[0] for pattern in includes} | {"workflows", "activities"}
    sources: set[str] = set()
    for keyword, arg in _dockerfile_instructions():
        if keyword == "COPY":
            sources.update(arg.split()[:-1])
    assert packages <= sources, f"Dockerfile does not COPY {sorted(packages - sources)}"
    # pyproject's readme must be in the image too, or `pip install .` fails.
    assert pyproject["project"]["readme"] in sources


def test_dockerfile_copy_sources_exist() -> None:
    """Everything the Dockerfile copies is in the repository (else `docker build` fails)."""
    missing = []
    for keyword, arg in _dockerfile_instructions():
        if keyword == "COPY":
            missing += [src for src in arg.split()[:-1] if not (ROOT / src).exists()]
    assert not missing, f"Dockerfile copies files that do not exist: {missing}"


def test_worker_bindings_use_the_backend_services(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """The worker's binding URLs name the compose services, with their credentials, and parse
    as the bindings accept them (no connection is made)."""
    from urllib.parse import parse_qs, urlsplit

    from adapter.bindings import D1Database, KVNamespace, R2Bucket

    env = _env(services["worker"])
    d1 = urlsplit(env["TEMPFLARE_D1_URL"])
    app_db = _env(services["app-db"])
    assert d1.scheme == "postgresql" and d1.hostname == "app-db" and d1.port == 5432
    assert (d1.username, d1.password) == (app_db["POSTGRES_USER"], app_db["POSTGRES_PASSWORD"])
    assert d1.path == f"/{app_db['POSTGRES_DB']}"

    kv = urlsplit(env["TEMPFLARE_KV_URL"])
    assert kv.scheme == "redis" and kv.hostname == "valkey" and (kv.port or 6379) == 6379

    r2 = urlsplit(env["TEMPFLARE_R2_URL"])
    endpoint = urlsplit(parse_qs(r2.query)["endpoint"][0])
    assert r2.scheme == "s3" and endpoint.hostname == "s3" and endpoint.port == 8333
    assert "-s3.port=8333" in services["s3"]["command"]
    (mount,) = services["s3"]["configs"]
    identities = json.loads(compose["configs"][mount["source"]]["content"])["identities"]
    keys = {(c["accessKey"], c["secretKey"]) for i in identities for c in i["credentials"]}
    assert (r2.username, r2.password) in keys
    assert mount["target"] in " ".join(services["s3"]["command"])

    for name in ("app-db", "valkey", "s3"):
        mounts = services[name]["volumes"]
        assert all(m.split(":", 1)[0] in compose["volumes"] for m in mounts), name
        assert "healthcheck" in services[name], name
    D1Database(env["TEMPFLARE_D1_URL"]).close()
    KVNamespace(env["TEMPFLARE_KV_URL"]).close()
    assert R2Bucket(env["TEMPFLARE_R2_URL"]).location.startswith("s3://tempflare:***@")
