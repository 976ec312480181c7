#!/bin/sh
# Runs inside the image's chroot (under `env -i`, see build.sh): the venv with the pinned Python packages.
# /tmp/host-ca.pem is the build host's CA bundle (copied in for pip's TLS and removed afterwards).
set -eu
python3 -m venv /opt/conda
/opt/conda/bin/pip install --no-cache-dir --disable-pip-version-check --no-input --only-binary=:all: \
  --cert /tmp/host-ca.pem -r /tmp/requirements.txt $( [ -s /tmp/constraints.txt ] && echo -c /tmp/constraints.txt )
/opt/conda/bin/pip freeze --all --disable-pip-version-check >/opt/conda/pip-freeze.txt
# Test suites are not needed at run time (pandas' alone is tens of MB).
rm -rf /opt/conda/lib/python3*/site-packages/pandas/tests
