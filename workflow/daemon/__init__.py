"""A door beside the CLI: the long-running daemon (APScheduler) that checks and delivers.

Holds: ``runner`` (the Daemon and its jobs), ``lock`` (one daemon per database), ``pool`` (an
executor that can be stopped safely). May use every room below it.
"""
