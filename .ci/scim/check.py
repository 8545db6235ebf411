#!/usr/bin/env python3
"""Runs scim2-tester's server checks for the User resource against a SCIM base URL.

Usage: check.py BASE_URL TOKEN. Prints one line per check and exits 1 when any check errs
(skipped checks are listed, not failures).
"""
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = check_server(SyncSCIMClient(http), resource_types=["User"])
    failures = 0
    for result in results:
        failed = result.status in (Status.ERROR, Status.CRITICAL)
        failures += failed
        print(f"{result.status.name:8} {result.title}: {result.reason or ''}")
        if failed and result.data is not None:
            print(f"         {result.data!r}"[:2000])
    print(f"scim2-tester: {len(results)} checks, {failures} failed")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
