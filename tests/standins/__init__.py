"""Stand-ins for services that cannot be installed here (each named as such)."""
