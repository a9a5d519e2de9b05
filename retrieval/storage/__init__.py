"""Storage: the Chroma store and its change log, the lexical file, the manifest, the index over both, stories."""

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # before any module here imports chromadb
