"""The README's AWS CLI example, run as a user would."""
import json
import os
import shutil
import subprocess
import uuid

import pytest


def aws(url, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="shoal", AWS_SECRET_ACCESS_KEY="shoal-secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    out = subprocess.run(["aws", "dynamodb", "--endpoint-url", url, "--output", "json", *args],
                         env=env, check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout) if out.stdout.strip() else {}


@pytest.mark.skipif(shutil.which("aws") is None, reason="AWS CLI not installed")
def test_readme_cli_example(url):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    aws(url, "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=id,AttributeType=S",
        "--key-schema", "AttributeName=id,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST")
    aws(url, "wait", "table-exists", "--table-name", name)
    aws(url, "put-item", "--table-name", name,
        "--item", '{"id": {"S": "42"}, "answer": {"N": "42"}}')
    got = aws(url, "get-item", "--table-name", name, "--key", '{"id": {"S": "42"}}')
    assert got["Item"] == {"id": {"S": "42"}, "answer": {"N": "42"}}
    assert name in aws(url, "list-tables")["TableNames"]
    aws(url, "delete-table", "--table-name", name)
