"""Users, roles, geographic scope, API tokens and login."""
