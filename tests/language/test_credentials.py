"""The credential-name rule of a custom step's env, as docs/spec.md states it."""

from __future__ import annotations

import pytest

from maestro.language.checks import looks_like_credential

CREDENTIALS = ["Password1", "DBPASSWORD", "HFTOKEN", "GH_PAT", "GIT_ASKPASS", "DB_PASSWORD", "db_passwd",
               "HF_TOKEN", "CLIENT_SECRET", "OPENAI_API_KEY", "OPENAIAPIKEY", "AWS_ACCESS_KEY_ID",
               "AWS_SECRET_ACCESS_KEY", "aws_session_token", "SSH_PRIVATE_KEY", "DB_PASS", "MYSQL_PWD",
               "SIGNING_KEY", "BASIC_AUTH", "GCP_CREDENTIALS", "SSH_ASKPASS", "GPG_PASSPHRASE", "GH-PAT", "KEY"]
PLAIN = ["TOKENIZERS_PARALLELISM", "MAX_TOKENS", "PATH", "PYTHONPATH", "PWD", "MODE", "MONKEY_PATCH",
         "KEYBOARD", "PATTERN", "COMPASS", "AUTHOR", "OMP_NUM_THREADS", "HOME"]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_names_are_refused(name: str) -> None:
    assert looks_like_credential(name)


@pytest.mark.parametrize("name", PLAIN)
def test_plain_names_are_accepted(name: str) -> None:
    assert not looks_like_credential(name)
