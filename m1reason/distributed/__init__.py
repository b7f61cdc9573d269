"""Scale-out on Ray: one evaluation split over many workers, and the async solver as several replicas.

Ray is an optional extra (``pip install m1reason[ray]``): importing this package never imports it; the calls
that need a cluster import it then, and say how to install it if it is missing. See docs/scale-out.md.

>>> import m1reason.distributed as distributed
>>> sorted(distributed.__all__) == distributed.__all__
True
"""

from m1reason.distributed.cluster import connect
from m1reason.distributed.eval import EvalWorker, run_eval_ray
from m1reason.distributed.serving import SolverPool, SolverReplica, least_loaded

__all__ = ["EvalWorker", "SolverPool", "SolverReplica", "connect", "least_loaded", "run_eval_ray"]
