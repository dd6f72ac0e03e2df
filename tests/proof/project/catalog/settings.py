"""Where things are stored. Read once, at import time, like most applications do."""

import os

REPORTS_BUCKET = os.environ.get("CATALOG_REPORTS_BUCKET", "catalog-reports")
ARTIFACTS_BUCKET = os.environ.get("CATALOG_ARTIFACTS_BUCKET", "catalog-artifacts")
EXPORT_BUCKET = os.environ.get("CATALOG_EXPORT_BUCKET", "catalog-exports")
