"""``greedlab bench``: how fast the trainer is, measured in one run on this machine.

``throughput`` races the vectorized ensemble against a per-model loop and the machine's own matmul
rate; ``suite`` (``--suite``) adds the throughput curve over ensemble sizes, memory, precision
modes and the claims suite's wall time with where it goes.
"""
