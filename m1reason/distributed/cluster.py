"""Joining a Ray cluster, and the resources one worker asks of it.

It owns the one lazy ``import ray`` and the sizing rule (one worker per GPU, else per CPU); it does not start
workers (eval and serving do).
"""

from __future__ import annotations

import logging
import os

from m1reason.errors import ConfigError

__all__ = ["connect"]

log = logging.getLogger(__name__)


def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'm1reason[ray]' (or ray>=2.9)") from None
    return ray


def connect(address: str | None = None):
    """The ``ray`` module, joined to the cluster at ``address`` (None: the one this process already joined, else
    $RAY_ADDRESS, else a new local one). A bad address raises ConfigError.

    >>> import sys; saved = sys.modules.get("ray"); sys.modules["ray"] = None  # as if Ray were not installed
    >>> connect()
    Traceback (most recent call last):
    ...
    m1reason.errors.ConfigError: --ray needs Ray: pip install 'm1reason[ray]' (or ray>=2.9)
    >>> _ = sys.modules.pop("ray") if saved is None else sys.modules.update(ray=saved)
    >>> ray = connect("auto")  # doctest: +SKIP
    """
    ray = _ray()
    if not ray.is_initialized():
        # A new local cluster needs no dashboard; joining one, Ray refuses options that shape a cluster.
        options = {} if address or os.environ.get("RAY_ADDRESS") else {"include_dashboard": False}
        try:
            ray.init(address=address or None, **options)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise ConfigError(f"cannot join the Ray cluster at {address!r}: {err}") from None
        log.info("joined Ray cluster: %s", ray.cluster_resources())
    return ray


def worker_resources(ray, workers: int | None) -> tuple[int, dict]:
    """How many workers to start and what each asks for: a GPU each where the cluster has GPUs, else a CPU.

    >>> class Cluster:  # stands in for the ray module
    ...     def __init__(self, **resources): self.resources = resources
    ...     def cluster_resources(self): return self.resources
    >>> worker_resources(Cluster(CPU=16.0, GPU=8.0), None), worker_resources(Cluster(CPU=2.0), None)
    ((8, {'num_gpus': 1, 'num_cpus': 1}), (2, {'num_cpus': 1}))
    """
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
    if workers is not None and workers < 1:
        raise ConfigError(f"--ray-workers must be >= 1, got {workers}")
    if gpus:
        return workers or gpus, {"num_gpus": 1, "num_cpus": 1}
    return workers or max(1, cpus), {"num_cpus": 1}
