"""The programs in ``programs/`` are data for test_ports.py, run in their own folders: not test
modules. Without this, ``--doctest-modules`` imports each of them to look for doctests, which runs
the program at collection time (with real torch) and leaves p04's ``ckpt.pt`` in the working
directory."""

collect_ignore = ["programs"]
