"""Benchmarks: gradfit side by side with PyTorch and hand-written NumPy. See benchmarks/RESULTS.md."""
