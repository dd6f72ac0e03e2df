"""`python -m catalog s3|gcs`: run one cloud's workflows and print what they saw, as JSON."""

import json
import os
import sys
import tempfile

from catalog import artifacts, export
from catalog.backups import back_up
from catalog.outbox import notify
from catalog.reports import ReportStore


def run_s3() -> dict:
    store = ReportStore()
    store.save("lamp", {"price": 30, "stock": 4})
    store.save("desk", {"price": 120, "stock": 1})
    store.save("chair", {"price": 45, "stock": 0})
    store.remove("chair")
    backup = back_up("reports/desk.json")
    with tempfile.TemporaryDirectory() as work:
        manual = os.path.join(work, "manual.txt")
        with open(manual, "w", encoding="utf-8") as handle:
            handle.write("assembly: 3 steps\n")
        key = artifacts.log_artifact(manual, "lamp/v2")
        copy = artifacts.fetch_artifact(key, os.path.join(work, "copy.txt"))
        with open(copy, encoding="utf-8") as handle:
            fetched = handle.read()
    return {
        "lamp": store.load("lamp"),
        "products": store.products(),
        "artifact": key,
        "fetched": fetched,
        "backup": backup,
        "outbox": notify("lamp"),
    }


def run_gcs() -> dict:
    export.publish_export("weekly", "product,price\nlamp,30\n")
    export.publish_export("daily", "product,price\ndesk,120\n")
    return {
        "weekly": export.read_export("weekly"),
        "names": export.export_names(),
        "has_monthly": export.has_export("monthly"),
        "has_daily": export.has_export("daily"),
    }


if __name__ == "__main__":
    workflows = {"s3": run_s3, "gcs": run_gcs}
    print(json.dumps(workflows[sys.argv[1]](), sort_keys=True))
