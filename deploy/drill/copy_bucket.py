"""Copy every object of one bucket to another (made if missing), or --delete a bucket."""

import contextlib
import sys

import boto3
from botocore.config import Config

s3 = boto3.client(
    "s3",
    endpoint_url="http://127.0.0.1:18333",
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}),
)
if sys.argv[1] == "--delete":
    bucket = sys.argv[2]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)
    print(f"deleted bucket {bucket}")
    sys.exit()
src, dst = sys.argv[1:3]
with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
    s3.create_bucket(Bucket=dst)
n = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src):
    for o in page.get("Contents", []):
        s3.copy_object(Bucket=dst, Key=o["Key"], CopySource={"Bucket": src, "Key": o["Key"]})
        n += 1
print(f"copied {n} object(s) from {src} to {dst}")
