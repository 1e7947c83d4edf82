"""duban's domain. The ground lies at the top of this package: ``config``, ``db`` (+ ``migrations``),
``models``, ``errors``, ``clock``, ``files``, ``due`` (due dates from stored rules) and ``workdays``
(the office's working-day calendar). Above it, one sub-package per concept an office person names:
``directory`` → ``tasks`` → ``ledger`` / ``chasing`` → ``outbox`` / ``evaluation``, and the doors
``daemon``, ``demo`` (and ``web``). Imports point downwards only; ``tests/test_architecture.py``
holds the rule.
"""
