"""A real local Ray cluster (2 CPUs) shared by the slow distributed tests, and a tiny synthetic dataset."""

import json

import pytest


@pytest.fixture(scope="package")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def dataset(tmp_path):
    """Write ``count`` problems as JSONL; return the path and the rows."""
    def write(count: int):
        rows = [{"id": f"q{i}", "problem": f"What is {i} + {i + 1}?", "answer": str(2 * i + 1)} for i in range(count)]
        path = tmp_path / "data.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return path, rows
    return write
