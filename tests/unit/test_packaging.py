"""The wheel holds the library alone, and the library imports without its optional extras."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_adapter_alone(tmp_path: Path) -> None:
    # Built from a copy, so that setuptools' build/ folder lands in tmp_path, not the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("adapter", "workflows", "activities", "tests"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("tempflare-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == {"adapter"}
    assert "adapter/py.typed" in names
    assert "adapter/_workflow/step.py" in names
    assert not [n for n in names if "/tests/" in n or n.startswith(("workflows/", "activities/"))]
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info.pop()}/METADATA").decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in requires if "extra ==" not in line]
    assert sorted(line.split()[1].split(">")[0].split("<")[0] for line in core) == [
        "filelock",
        "platformdirs",
        "pydantic",
        "structlog",
        "temporalio",
    ]
    extras = {
        line.split("Provides-Extra:")[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Provides-Extra:")
    }
    assert {"bindings", "ai", "demo", "postgres", "redis", "s3"} <= extras


BLOCK_EXTRAS = textwrap.dedent(
    """
    import importlib.abc, sys

    class Missing(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"httpx", "rich", "anthropic", "yaml"}:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Missing())
    """
)


def test_the_core_imports_without_optional_extras() -> None:
    code = BLOCK_EXTRAS + textwrap.dedent(
        """
        import adapter, adapter.testing, adapter.devserver
        print(len(adapter.__all__))
        try:
            import adapter.bindings
        except ImportError as err:
            print(err)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    count, message = done.stdout.splitlines()
    assert int(count) > 30
    assert message == "adapter.bindings needs httpx: pip install 'tempflare[bindings]'"


def test_backend_drivers_are_needed_only_by_their_urls() -> None:
    """Without asyncpg, redis and boto3, the bindings import and run on SQLite and disk; a
    PostgreSQL, Redis or S3 URL then names the extra to install."""
    code = textwrap.dedent(
        """
        import importlib.abc, sys, tempfile

        class Missing(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"asyncpg", "redis", "boto3", "botocore"}:
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, Missing())
        from adapter.bindings import D1Database, KVNamespace, R2Bucket
        D1Database(":memory:"); KVNamespace(); R2Bucket(tempfile.mkdtemp())
        for build in (
            lambda: D1Database("postgresql://db/app"),
            lambda: KVNamespace("redis://cache"),
            lambda: R2Bucket("s3://bucket"),
        ):
            try:
                build()
            except ImportError as err:
                print(err)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "D1 on PostgreSQL needs asyncpg: pip install 'tempflare[postgres]'",
        "KV on Redis or Valkey needs redis: pip install 'tempflare[redis]'",
        "R2 on S3 needs boto3: pip install 'tempflare[s3]'",
    ]
