"""Users, roles, permissions, passwords, API tokens and web sessions."""
