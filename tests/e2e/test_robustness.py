"""Robustness: thousands of mutated but validly signed requests of every item and table
operation. Whatever the input, the answer is a DynamoDB error or a success, never a 5xx, a
dropped connection or a dead service. Seeded, so a failure is reproducible."""
import http.client
import os
import json
import random
import subprocess
import time
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

DURATION_S = 15


@pytest.mark.shoal_only
def test_mutated_requests_never_break_the_fleet(ddb, make_table, url, fleet):
    t = make_table(hash_key=("pk", "S"), range_key=("sk", "N"))
    random.seed(20261124)
    seeds = {
        "PutItem":{"TableName":t,"Item":{"pk":{"S":"a"},"sk":{"N":"1"},"l":{"L":[{"N":"1"}]},"m":{"M":{"x":{"S":"y"}}}},"ConditionExpression":"attribute_not_exists(pk) OR l[0] = :v","ExpressionAttributeValues":{":v":{"N":"1"}},"ReturnValues":"ALL_OLD"},
        "UpdateItem":{"TableName":t,"Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET l = list_append(l, :l), m.x = :s ADD c :one REMOVE l[0]","ExpressionAttributeValues":{":l":{"L":[{"S":"q"}]},":s":{"S":"z"},":one":{"N":"1"}},"ReturnValues":"UPDATED_NEW"},
        "Query":{"TableName":t,"KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","FilterExpression":"size(l) > :a","ExpressionAttributeValues":{":p":{"S":"a"},":a":{"N":"0"},":b":{"N":"9"}},"Limit":3,"ScanIndexForward":False},
        "Scan":{"TableName":t,"Segment":0,"TotalSegments":2,"ProjectionExpression":"m.x, l[0]","Limit":5},
        "BatchWriteItem":{"RequestItems":{t:[{"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"2"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"c"},"sk":{"N":"3"}}}}]}},
        "BatchGetItem":{"RequestItems":{t:{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}}],"ProjectionExpression":"pk"}}},
        "GetItem":{"TableName":t,"Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConsistentRead":True},
        "DeleteItem":{"TableName":t,"Key":{"pk":{"S":"zz"},"sk":{"N":"1"}},"Expected":{"x":{"Exists":False}}},
        "UpdateTable":{"TableName":t,"BillingMode":"PAY_PER_REQUEST"},
        "DescribeTable":{"TableName":t},
    }
    vals=[None,True,False,0,-1,1e308,2**70,"", "x"*1000, [], {}, {"S":""},{"N":"1e999"},{"L":[]},{"M":{}},{"SS":[]},{"B":"!!"},{"NULL":False},[{}], "#a", ":v", "((((", "a.b[99999999999999]"]
    def mutate(o, depth=0):
        if isinstance(o, dict):
            o=dict(o)
            if o and random.random()<0.3:
                k=random.choice(list(o)); o[k]=random.choice(vals) if random.random()<0.5 else mutate(o[k],depth+1)
            if random.random()<0.1 and o: del o[random.choice(list(o))]
            if random.random()<0.1: o[random.choice(["ExpressionAttributeNames","Limit","Select","ExclusiveStartKey","ReturnConsumedCapacity","AttributesToGet"])]=random.choice(vals)
            return o
        if isinstance(o, list):
            o=list(o)
            if o and random.random()<0.5: i=random.randrange(len(o)); o[i]=mutate(o[i],depth+1)
            if random.random()<0.2: o=o*random.randint(2,40)
            return o
        if isinstance(o,str) and random.random()<0.5:
            i=random.randrange(len(o)+1); return o[:i]+random.choice(["(",")",".","[0]",":v","#n"," AND ","'","\\u0000"])+o[i:]
        return o if random.random()<0.7 else random.choice(vals)
    creds = Credentials("shoal", "shoal-secret")
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    failures, sent, end = [], 0, time.time() + DURATION_S
    while time.time() < end and len(failures) < 5:
        op = random.choice(list(seeds))
        body = json.dumps(mutate(seeds[op])).encode()
        request = AWSRequest(method="POST", url=url.rstrip("/") + "/", data=body,
                             headers={"X-Amz-Target": "DynamoDB_20120810." + op,
                                      "Content-Type": "application/x-amz-json-1.0"})
        SigV4Auth(creds, "dynamodb", "us-east-1").add_auth(request)
        try:
            conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            failures.append((op, body[:300], repr(e)))
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
            continue
        sent += 1
        if resp.status >= 500:
            failures.append((op, body[:300], resp.status, data[:300]))
    assert not failures, failures
    assert sent > 1000
    # Every service is still up and the table still works.
    status = subprocess.run(["bash", os.path.join(fleet.root, "scripts", "fleet.sh"), "status"],
                            capture_output=True, text=True, timeout=60).stdout
    assert "stopped" not in status, status
    ddb.put_item(TableName=t, Item={"pk": {"S": "after"}, "sk": {"N": "1"}})
    assert "Item" in ddb.get_item(TableName=t, Key={"pk": {"S": "after"}, "sk": {"N": "1"}})
