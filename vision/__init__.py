"""Pure computer vision: image checks, faces, liveness, OCR; no Temporal.

One BLAS thread per process unless the operator says otherwise: the vision worker runs one
process per core (`workers.vision`), and a dlib built with OpenBLAS (`scripts/build_dlib.sh`)
would otherwise start a thread per core in each of them, spinning against the other processes.
Set before any module of this package imports dlib, which reads it when OpenBLAS loads.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
