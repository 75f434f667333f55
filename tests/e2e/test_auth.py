"""SigV4: the router verifies signatures against the access keys metadata holds."""
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def client(url, key, secret, region="us-east-1"):
    return boto3.client("dynamodb", endpoint_url=url, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def test_documented_key_pair_is_accepted(url):
    assert "TableNames" in client(url, "shoal", "shoal-secret").list_tables()


def test_any_region_in_the_scope_is_accepted(url):
    assert "TableNames" in client(url, "shoal", "shoal-secret", region="eu-west-1").list_tables()


@pytest.mark.xfail_ddblocal(reason="DynamoDB Local accepts any credentials")
def test_wrong_secret_is_invalid_signature(url):
    with pytest.raises(ClientError) as e:
        client(url, "shoal", "not-the-secret").list_tables()
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidSignatureException"
    assert err["Message"] == (
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.xfail_ddblocal(reason="DynamoDB Local accepts any credentials")
def test_unknown_access_key_is_unrecognized_client(url):
    with pytest.raises(ClientError) as e:
        client(url, "AKIDNOSUCHKEY", "whatever").list_tables()
    err = e.value.response["Error"]
    assert err["Code"] == "UnrecognizedClientException"
    assert err["Message"] == "The security token included in the request is invalid."


@pytest.mark.xfail_ddblocal(reason="DynamoDB Local accepts any credentials")
def test_signature_covers_the_body(url):
    c = client(url, "shoal", "shoal-secret")

    def tamper(request, **kwargs):  # change the body after it was signed
        request.body = request.body.replace(b'"Limit": 5', b'"Limit": 6')

    c.meta.events.register("before-send.dynamodb.ListTables", tamper)
    with pytest.raises(ClientError) as e:
        c.list_tables(Limit=5)
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
