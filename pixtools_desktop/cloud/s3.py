"""S3 as PixTools uses it: key layout, content types, multipart uploads, presigned GETs.

Keys: `processed/{job_id}/{op}_{8 hex}.{ext}` and `archives/{job_id}/bundle.zip`
under an optional prefix, exactly as the PixTools servers lay them out, so
a studio's tooling reads desktop uploads like server ones. Clients are SigV4,
path-style for custom endpoints (SeaweedFS, MinIO), with bounded timeouts so
a dead endpoint fails an attempt instead of hanging a worker.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pixtools_desktop.cloud.config import S3Target

MB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 16 * MB
DEFAULT_MULTIPART_CHUNK = 8 * MB

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()

_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "InvalidClientTokenId",
    "403",
}
_BUCKET_CODES = {"NoSuchBucket", "404"}


def _credential_fingerprint(target: S3Target) -> str:
    """Clients are cached per credentials in use, without keeping the secret itself as a key."""
    parts = [
        os.environ.get(n, "")
        for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    ]
    return hashlib.sha256("\0".join([target.profile or "", *parts]).encode()).hexdigest()


def make_client(target: S3Target, *, fast: bool = False) -> Any:
    """A new boto3 S3 client; `fast` (health checks) means short timeouts and no retries."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=target.profile) if target.profile else boto3.session.Session()
    config = Config(
        signature_version="s3v4",
        region_name=target.region,
        s3={"addressing_style": "path" if target.endpoint_url else "auto"},
        connect_timeout=3 if fast else 10,
        read_timeout=5 if fast else 60,
        retries={"max_attempts": 1 if fast else 3, "mode": "standard"},
    )
    return session.client("s3", endpoint_url=target.endpoint_url, config=config)


def get_client(target: S3Target, *, fast: bool = False) -> Any:
    """A cached client (boto3 clients are thread-safe; creating one is not cheap)."""
    key = (target.endpoint_url, target.region, target.profile, fast, _credential_fingerprint(target))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(target, fast=fast)
        return client


def clear_client_cache() -> None:
    with _clients_lock:
        _clients.clear()


def object_key(target: S3Target, job_id: str, op: str, ext: str) -> str:
    """PixTools' layout; the 8 hex make a re-run's key differ from the last one's."""
    if op == "bundle":
        key = f"archives/{job_id}/bundle.zip"
    else:
        key = f"processed/{job_id}/{op}_{secrets.token_hex(4)}.{ext.lstrip('.').lower()}"
    return f"{target.prefix}/{key}" if target.prefix else key


def download_name(op: str, input_path: str, ext: str) -> str:
    """The name a browser saves a result as: pixtools_{op}_{base}.{ext} (the API's)."""
    return f"pixtools_{op}_{Path(input_path).stem}.{ext.lstrip('.').lower()}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 5987 UTF-8 name for non-ASCII bases."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    if ascii_name == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def transfer_config(threshold: int = DEFAULT_MULTIPART_THRESHOLD, chunk: int = DEFAULT_MULTIPART_CHUNK) -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=threshold, multipart_chunksize=chunk, max_concurrency=4)


def upload(client: Any, bucket: str, key: str, path: Path, content_type: str, config: Any = None) -> str:
    """Upload one file (multipart above the threshold); returns the object's ETag."""
    client.upload_file(
        str(path), bucket, key, ExtraArgs={"ContentType": content_type}, Config=config or transfer_config()
    )
    head = client.head_object(Bucket=bucket, Key=key)
    return head.get("ETag", "").strip('"')


def head(client: Any, bucket: str, key: str) -> dict | None:
    """The object's metadata, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def presign(client: Any, bucket: str, key: str, filename: str, expiry: int) -> str:
    """A SigV4 GET URL whose download is named `filename`."""
    return client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": content_disposition(filename)},
        ExpiresIn=int(expiry),
    )


def explain(exc: BaseException, bucket: str = "") -> tuple[str, bool]:
    """(message a person understands, permanent?) for an S3 failure; never includes a secret."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, S3UploadFailedError) and exc.__cause__ is not None:
        return explain(exc.__cause__, bucket)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or choose a profile in the settings",
            True,
        )
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        if code in _AUTH_CODES:
            return (
                f"S3 rejected the credentials ({code}): check AWS_ACCESS_KEY_ID, "
                f"AWS_SECRET_ACCESS_KEY or the profile, and the bucket's permissions",
                True,
            )
        if code in _BUCKET_CODES:
            return f"the bucket {bucket or '?'} does not exist on this S3 endpoint ({code})", True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"S3 error {code or status}: {err.get('Message') or exc}", False
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return f"cannot reach the S3 endpoint ({type(exc).__name__})", False
    if isinstance(exc, ReadTimeoutError):
        return "the S3 endpoint stopped answering (read timeout)", False
    if isinstance(exc, S3UploadFailedError):
        # The transfer manager flattens the ClientError into text: "... An error occurred (Code) when ...".
        text = str(exc)
        m = re.search(r"An error occurred \((\w+)\)", text)
        code = m.group(1) if m else ""
        if code in _AUTH_CODES:
            return (
                f"S3 rejected the credentials ({code}): check AWS_ACCESS_KEY_ID, "
                f"AWS_SECRET_ACCESS_KEY or the profile, and the bucket's permissions",
                True,
            )
        if code in _BUCKET_CODES:
            return f"the bucket {bucket or '?'} does not exist on this S3 endpoint ({code})", True
        return f"S3 upload failed: {text.partition(': ')[2] or text}", False
    if isinstance(exc, FileNotFoundError):
        return f"the output file {exc.filename} no longer exists", True
    if isinstance(exc, OSError):
        return f"cannot read the output file: {exc.strerror or exc}", False
    return f"{type(exc).__name__}: {exc}", False
