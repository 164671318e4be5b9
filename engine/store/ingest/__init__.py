"""Files into the data factory: CSV/TSV (any common encoding and dialect), Excel, Parquet."""

from engine.store.ingest.bound import describe_file, read_file_frame
from engine.store.ingest.core import ingest_file
from engine.store.ingest.options import IngestOptions
from engine.store.ingest.text import check_file, detect_encoding, sha256_file, transcode_to_utf8

__all__ = ["IngestOptions", "check_file", "describe_file", "detect_encoding", "ingest_file", "read_file_frame",
           "sha256_file", "transcode_to_utf8"]
