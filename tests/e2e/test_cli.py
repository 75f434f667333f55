"""The README's AWS CLI examples, run as written (endpoint and table name substituted)."""
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(shutil.which("aws") is None, reason="AWS CLI not installed")


def readme_block(marker):
    text = README.read_text()
    m = re.search(r"<!-- cli-example:" + marker + r" -->\s*```sh\n(.*?)```", text, re.S)
    assert m, f"README has no cli-example:{marker} block"
    return m.group(1)


def run_block(script, url, table):
    script = script.replace("http://localhost:8000", url).replace("Music", table)
    # Later blocks rely on the first block's `export` line, as in the reader's shell.
    env = dict(os.environ, AWS_PAGER="", AWS_ACCESS_KEY_ID="shoal",
               AWS_SECRET_ACCESS_KEY="shoal-secret", AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # The CLI prints one JSON document per command that has output.
    docs, decoder, pos, text = [], json.JSONDecoder(), 0, out.stdout
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


@pytest.fixture(scope="module")
def table():
    return f"Music-{uuid.uuid4().hex[:8]}"


def test_readme_basic_example(url, table):
    docs = run_block(readme_block("basic"), url, table)
    assert docs[0]["TableDescription"]["TableName"] == table
    assert docs[-1]["Item"] == {"Artist": {"S": "Nina Simone"}, "Song": {"S": "Sinnerman"},
                                "Year": {"N": "1965"}}


def test_readme_query_example(url, table):
    docs = run_block(readme_block("query"), url, table)
    assert docs[0]["UnprocessedItems"] == {}
    query, update, query2, scan = docs[1], docs[2], docs[3], docs[4]
    assert [i["Song"]["S"] for i in query["Items"]] == ["Feeling Good", "Sinnerman"]
    assert update["Attributes"] == {"Plays": {"N": "1"}}
    assert [i["Song"]["S"] for i in query2["Items"]] == ["Sinnerman"]
    assert scan["Count"] == 3
