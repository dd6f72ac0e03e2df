#!/usr/bin/env bash
# Builds the benchmark corpus: real packages that use the cloud storage SDKs, installed as
# plain source (no dependencies, nothing imported or run) into one folder.
set -euo pipefail
CORPUS="${1:-/tmp/cloudshift-corpus}"
python -m pip install --quiet --disable-pip-version-check --no-deps --target "$CORPUS" \
    sagemaker great_expectations feast zenml mlflow google-cloud-storage \
    apache-airflow-providers-amazon apache-airflow-providers-google apache-airflow-providers-microsoft-azure
echo "corpus ready in $CORPUS"
