#!/usr/bin/env bash
# Builds the benchmark corpus: real packages that use the cloud storage SDKs, as plain source
# (no dependencies, nothing imported or run) in one folder. SDK-heavy on purpose: applications
# and integrations (mlflow, sagemaker, airflow providers, feast, zenml), SDKs' own source trees
# (google-cloud-storage, azure-storage-blob, boto3), fsspec filesystems (s3fs, gcsfs, adlfs), and
# an SDK mocking library with its whole test suite (moto's source distribution).
set -euo pipefail
CORPUS="${1:-/tmp/cloudshift-corpus}"
pip_quiet() { python -m pip --quiet --disable-pip-version-check "$@"; }
pip_quiet install --no-deps --target "$CORPUS" \
    sagemaker==2.* great_expectations==0.18.* feast zenml mlflow google-cloud-storage azure-storage-blob boto3 \
    s3fs gcsfs adlfs \
    apache-airflow-providers-amazon apache-airflow-providers-google apache-airflow-providers-microsoft-azure
DOWNLOADS="$(mktemp -d)"
pip_quiet download --no-deps --no-binary :all: --dest "$DOWNLOADS" moto==5.1.22
tar -xzf "$DOWNLOADS"/moto-5.1.22.tar.gz -C "$CORPUS"
rm -rf "$DOWNLOADS"
echo "corpus ready in $CORPUS: $(find "$CORPUS" -name '*.py' | wc -l) Python files"
