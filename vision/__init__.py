"""Pure computer vision: image checks, faces, liveness, OCR; no Temporal."""
