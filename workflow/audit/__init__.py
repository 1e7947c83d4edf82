"""The security audit log (等保 2.0 安全审计, issue 30): one chained, append-only row per sign-in,
token, directory change, import, export, setting change, backup and restore; retention with
export before pruning; ``verify`` says which row was deleted or edited."""
