"""Domain state of the simulated SyncServer: no HTTP, no XML in here."""
