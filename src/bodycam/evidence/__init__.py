"""Evidence: recordings, ingest, probe, metadata, search and playback."""
