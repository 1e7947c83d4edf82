"""Importing a ledger: readers (xlsx, docx, csv) → rows → parser → database service."""
