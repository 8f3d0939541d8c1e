"""R2 on any S3-compatible store (AWS S3, MinIO, Cloudflare R2's S3 API...) through boto3.

``R2Bucket("s3://[access_key:secret@]bucket[/key/prefix]?endpoint=https://...&region=auto")``
(``pip install 'tempflare[s3]'``). Without credentials in the URL, boto3's usual chain applies
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, instance roles). Options:

* ``endpoint``: the S3 API's URL (omit for AWS; ``https://<account>.r2.cloudflarestorage.com``
  for Cloudflare R2); ``region`` (``auto`` for R2);
* ``multipart_threshold`` and ``part_size`` (bytes, default 8 MiB each): objects from the
  threshold up are uploaded in parts, concurrently (boto3's transfer manager);
* ``create=1``: create the bucket if it does not exist (for development stores);
* ``addressing``: ``path`` (default when an endpoint is given) or ``virtual``.

boto3 clients are thread-safe and belong to no event loop: calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import io
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("R2 on S3 needs boto3: pip install 'tempflare[s3]'") from exc

from .._shared.errors import InvalidValueError
from ._urls import flag, options, redact
from .r2 import R2Object, R2ObjectBody, R2Objects

_OPTIONS = ("endpoint", "region", "multipart_threshold", "part_size", "create", "addressing")
_HTTP_TO_S3 = {
    "contentType": "ContentType",
    "contentLanguage": "ContentLanguage",
    "contentDisposition": "ContentDisposition",
    "contentEncoding": "ContentEncoding",
    "cacheControl": "CacheControl",
}
#: What S3 stores reports as the type of an object put without one.
_DEFAULT_CONTENT_TYPES = {"binary/octet-stream"}
_MiB = 1024 * 1024


def _size(opts: Mapping[str, str], name: str, default: int) -> int:
    text = opts.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 5 * _MiB:
        raise InvalidValueError(
            f"R2 (S3) option {name}={text!r} must be a number of bytes of at least 5 MiB "
            f"({5 * _MiB}), S3's smallest part"
        )
    return int(text)


class S3R2Backend:
    """R2 on an S3-compatible bucket."""

    def __init__(self, url: str) -> None:
        opts = options(url, _OPTIONS, "R2 (S3)")
        parts = urlsplit(url)
        if not parts.hostname:
            raise InvalidValueError(
                f"R2 (S3) URL {redact(url)!r} names no bucket; use s3://bucket?endpoint=..."
            )
        self.location = redact(url)
        self.bucket = parts.hostname
        self.prefix = unquote(parts.path.lstrip("/"))
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        endpoint = opts.get("endpoint")
        addressing = opts.get("addressing", "path" if endpoint else "virtual")
        if addressing not in ("path", "virtual"):
            raise InvalidValueError(
                f"R2 (S3) addressing must be path or virtual, not {addressing!r}"
            )
        self._transfer = TransferConfig(
            multipart_threshold=_size(opts, "multipart_threshold", 8 * _MiB),
            multipart_chunksize=_size(opts, "part_size", 8 * _MiB),
        )
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=opts.get("region") or "us-east-1",
            aws_access_key_id=unquote(parts.username) if parts.username else None,
            aws_secret_access_key=unquote(parts.password) if parts.password else None,
            config=Config(
                s3={"addressing_style": addressing},
                retries={"max_attempts": 3, "mode": "standard"},
                # Checksums only when required: some S3-compatible stores reject the new ones.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self._create = flag(opts.get("create"), "create", url)
        self._ready: bool = False
        self._lock = threading.Lock()

    def _ensure_bucket(self) -> None:
        if not self._create:
            return
        with self._lock:
            if self._ready:
                return
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self.bucket)
            self._ready = True

    def _object(self, key: str, head: Mapping[str, Any], body: bytes | None = None) -> R2Object:
        etag = str(head.get("ETag", "")).strip('"')
        uploaded = head.get("LastModified") or datetime.now(UTC)
        http: dict[str, str] = {}
        for ours, theirs in _HTTP_TO_S3.items():
            value = head.get(theirs)
            if value and not (theirs == "ContentType" and value in _DEFAULT_CONTENT_TYPES):
                http[ours] = str(value)
        if head.get("ExpiresString"):
            http["cacheExpiry"] = str(head["ExpiresString"])
        version = head.get("VersionId")
        if not version or version == "null":
            version = hashlib.md5(
                f"{etag}{uploaded.isoformat()}".encode(), usedforsecurity=False
            ).hexdigest()
        fields: dict[str, Any] = {
            "key": key,
            "version": version,
            "size": int(head.get("ContentLength", head.get("Size", 0))),
            "etag": etag,
            "http_etag": f'"{etag}"',
            "uploaded": uploaded.astimezone(UTC),
            "http_metadata": http,
            "custom_metadata": dict(head.get("Metadata") or {}),
        }
        return R2Object(**fields) if body is None else R2ObjectBody(**fields, body=body)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._client.head_object(
                Bucket=self.bucket, Key=self.prefix + key
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return result

    # -- blocking operations (run in a thread) ---------------------------------------------

    def _put_sync(
        self, key: str, data: bytes, http: Mapping[str, str], custom: Mapping[str, str]
    ) -> R2Object:
        self._ensure_bucket()
        extra: dict[str, Any] = {"Metadata": dict(custom)}
        for ours, value in http.items():
            if ours == "cacheExpiry":
                try:
                    extra["Expires"] = datetime.fromisoformat(value)
                except ValueError:
                    extra["Expires"] = parsedate_to_datetime(value)
            else:
                extra[_HTTP_TO_S3[ours]] = value
        self._client.upload_fileobj(
            io.BytesIO(data), self.bucket, self.prefix + key, ExtraArgs=extra, Config=self._transfer
        )
        head = self._head(key)
        if head is None:
            raise OSError(f"R2 (S3) object {key!r} vanished right after it was written")
        return self._object(key, head)

    def _get_sync(self, key: str, with_body: bool) -> R2Object | None:
        self._ensure_bucket()
        if not with_body:
            head = self._head(key)
            return None if head is None else self._object(key, head)
        try:
            result = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        with result["Body"] as stream:
            body = stream.read()
        return self._object(key, result, body)

    def _delete_sync(self, keys: Sequence[str]) -> None:
        self._ensure_bucket()
        if keys:
            self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self.prefix + k} for k in keys], "Quiet": True},
            )

    def _list_sync(
        self, prefix: str, limit: int, cursor: str | None, delimiter: str | None, include: bool
    ) -> R2Objects:
        self._ensure_bucket()
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self.prefix + prefix,
            "MaxKeys": limit,
        }
        if delimiter is not None:
            args["Delimiter"] = delimiter
        if cursor:
            args["ContinuationToken"] = cursor
        page = self._client.list_objects_v2(**args)
        cut = len(self.prefix)
        objects: builtins.list[R2Object] = []
        for item in page.get("Contents", []):
            key = item["Key"][cut:]
            head = (self._head(key) if include else None) or item
            objects.append(self._object(key, head))
        truncated = bool(page.get("IsTruncated"))
        return {
            "objects": objects,
            "truncated": truncated,
            "cursor": page.get("NextContinuationToken") if truncated else None,
            "delimited_prefixes": [p["Prefix"][cut:] for p in page.get("CommonPrefixes", [])],
        }

    # -- the backend interface -------------------------------------------------------------

    async def put(
        self, key: str, data: bytes, http: Mapping[str, str], custom: Mapping[str, str]
    ) -> R2Object:
        return await asyncio.to_thread(self._put_sync, key, data, http, custom)

    async def get(self, key: str, with_body: bool) -> R2Object | None:
        return await asyncio.to_thread(self._get_sync, key, with_body)

    async def delete(self, keys: Sequence[str]) -> None:
        await asyncio.to_thread(self._delete_sync, keys)

    async def list(
        self, prefix: str, limit: int, cursor: str | None, delimiter: str | None, include: bool
    ) -> R2Objects:
        return await asyncio.to_thread(self._list_sync, prefix, limit, cursor, delimiter, include)
