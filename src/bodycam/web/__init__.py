"""FastAPI app assembly, server-rendered pages and static files."""
