#!/bin/bash
# Prerequisites: PostgreSQL on 127.0.0.1:5432 (trust), an S3 server on 127.0.0.1:18333
# (SeaweedFS: see tests/fixtures/s3_server.py) accepting AWS key "drill"/"drill-secret".
# The restore drill of docs/operations.md, as run on the development machine.
set -euo pipefail
B=/work/main/.venv/bin
PG=postgresql+psycopg://postgres@127.0.0.1:5432
S3="endpoint=http://127.0.0.1:18333&region=us-east-1"
export AWS_ACCESS_KEY_ID=drill AWS_SECRET_ACCESS_KEY=drill-secret
export BODYCAM_HOME=/tmp/drill/home BODYCAM_SIGNING_KEY_PATH=/tmp/drill/keys/audit-ed25519.pem
export BODYCAM_ADMIN_PASSWORD=correct-horse-battery BODYCAM_JOBS=worker
rm -rf /tmp/drill/home /tmp/drill/keys /tmp/drill/backup && mkdir -p /tmp/drill/backup
psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS drill_live' -c 'DROP DATABASE IF EXISTS drill_restored' -c 'CREATE DATABASE drill_live'

echo "== 1. a small installation: PostgreSQL + S3 bucket 'drill-live'"
export BODYCAM_DATABASE_URL=$PG/drill_live BODYCAM_STORAGE_URL="s3://drill-live?$S3"
$B/bodycam init --admin admin
BODYCAM_NEW_PASSWORD=pw-officer-123456 $B/bodycam --as admin users add ofc --role officer --badge 4100 --squad North-A
$B/python - <<'PY'
from pathlib import Path
from bodycam.synth.video import make_clip
for seed in (1, 2, 3):
    make_clip(Path(f"/tmp/drill/clip{seed}.mp4"), seconds=2.0, width=320, height=180, fps=10, seed=seed)
PY
$B/bodycam --as ofc ingest --officer 4100 --tag drill /tmp/drill/clip1.mp4 /tmp/drill/clip2.mp4 /tmp/drill/clip3.mp4
$B/bodycam worker --once
$B/bodycam --as admin verify

echo "== 2. back up: pg_dump (custom format) and a copy of every object version"
pg_dump -h 127.0.0.1 -U postgres -Fc -f /tmp/drill/backup/bodycam.dump drill_live
ls -l /tmp/drill/backup/bodycam.dump
$B/python /tmp/drill/copy_bucket.py drill-live drill-backup

echo "== 3. disaster: the live database and bucket are gone"
psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE drill_live'
$B/python /tmp/drill/copy_bucket.py --delete drill-live

echo "== 4. restore into a new database and a new bucket"
psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE drill_restored'
pg_restore -h 127.0.0.1 -U postgres --no-owner --exit-on-error -d drill_restored /tmp/drill/backup/bodycam.dump
$B/python /tmp/drill/copy_bucket.py drill-backup drill-restored

echo "== 5. point bodycam at them; migrations (none due), then verify"
export BODYCAM_DATABASE_URL=$PG/drill_restored BODYCAM_STORAGE_URL="s3://drill-restored?$S3"
$B/bodycam init
$B/bodycam --as admin verify
