"""The Grafana dashboard under deploy/grafana queries only metrics the server exports: every
metric name in its panel and variable queries must have a HELP/TYPE line in a fresh server's
/metrics (per-trunk families are declared before their first series)."""

import json
import os
import re
import unittest

from harness import REPO_ROOT, ServerTestCase

DASHBOARD = os.path.join(REPO_ROOT, "deploy", "grafana", "trunkline-trunks.json")
METRIC_RE = re.compile(r"\btrunkline_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def dashboard_queries(dashboard):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable.get("type") == "query":
            yield variable["query"]


class GrafanaDashboardTest(ServerTestCase):
    def test_every_queried_metric_exists(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        status, _, text = self.srv.request("GET", "/metrics", key=None)
        self.assertEqual(status, 200)
        families = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                families[name] = kind
        queried = set()
        for expr in dashboard_queries(dashboard):
            queried.update(METRIC_RE.findall(expr))
        self.assertGreaterEqual(len(queried), 5, queried)
        for name in sorted(queried):
            family = name
            for suffix in HISTOGRAM_SUFFIXES:
                if name.endswith(suffix) and name[: -len(suffix)] in families:
                    family = name[: -len(suffix)]
                    self.assertEqual(families[family], "histogram", name)
            self.assertIn(family, families, f"the dashboard queries {name}, which /metrics lacks")

    def test_per_trunk_series_are_labelled_trunk_id(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        for expr in dashboard_queries(dashboard):
            if "trunkline_trunk_" in expr and "label_values" not in expr:
                self.assertIn("trunk_id", expr)


if __name__ == "__main__":
    unittest.main()
