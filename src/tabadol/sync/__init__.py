"""The peer side of federation: a signed HTTP client and one sync loop per peer."""
