"""One module per dataset; :func:`gradfit.data.load_dataset` imports them on demand.

Example:
    >>> from gradfit.data.datasets import synthetic
    >>> synthetic.load_xor(n_samples=8).sizes
    {'train': 5, 'val': 1, 'test': 2}
"""
