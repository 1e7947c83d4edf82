"""Personal accounts (issue 29): who a person is, their password, lockout, sign-in links and
personal tokens, and the 三员 duties. Above the directory (it builds Callers through
``directory/callers.py``) and the audit log; the doors (CLI, API, pages) call
:mod:`workflow.accounts.manage`, :mod:`workflow.accounts.signin` and
:mod:`workflow.accounts.calls`."""
