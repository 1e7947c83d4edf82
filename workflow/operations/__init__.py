"""Running duban in an office: online backup and restore, health and readiness, the daemon's
heartbeat and its upkeep (scheduled backups, audit retention), database upgrades with a backup."""
