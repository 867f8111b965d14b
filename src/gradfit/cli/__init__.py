"""The ``gradfit`` command. Each subcommand lives in its own module exposing ``register(subparsers)``."""
