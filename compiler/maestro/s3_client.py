"""An S3 client of an environment's artifact store, as the steps and `maestro promote` both need one.

In: the environment's artifact settings (endpoint, region, insecure), optionally keys, attempts and a
timeout. Out: a boto3 client (boto3 comes with the `train` extra; ImportError without it).
"""

from __future__ import annotations


def s3_client(artifacts, access_key: str | None = None, secret_key: str | None = None, attempts: int = 5,
              timeout: float | None = None):
    """A boto3 client of the environment's store; without keys, the caller's own credentials (the
    AWS tools' chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile)."""
    import boto3
    from botocore.config import Config

    scheme = "http" if artifacts.insecure else "https"
    aws = artifacts.endpoint.split(":")[0].endswith("amazonaws.com")
    # Path-style for MinIO and other stores, as Argo's own S3 client does off AWS.
    timeouts = {"connect_timeout": timeout, "read_timeout": timeout} if timeout else {}
    config = Config(s3={"addressing_style": "virtual" if aws else "path"},
                    retries={"max_attempts": attempts, "mode": "standard"}, **timeouts)
    keys = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key} if access_key else {}
    return boto3.client("s3", endpoint_url=f"{scheme}://{artifacts.endpoint}", region_name=artifacts.region,
                        config=config, **keys)
