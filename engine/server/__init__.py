"""The REST API for the MES/SCADA and scripts (FastAPI + uvicorn): `python -m engine serve`. An interface like the
CLI: it calls engine.api only."""
