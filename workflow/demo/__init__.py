"""A door beside the CLI: ``duban demo`` plays a whole year on a temporary database.

May use every room below it.
"""
