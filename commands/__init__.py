"""Commands the risk team and operators run against a deployment: they read the Settings and
wire the library rooms, as the workers do."""
