# One image for the API, the mocks, both workers and the one-shot jobs (migrate, blob-setup);
# the command picks the process. Packages come from the runtime lock, hashes checked.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md requirements-runtime.lock requirements-nodeps.lock ./
RUN python -m venv .venv \
    && .venv/bin/python -m pip install --no-cache-dir --require-hashes -r requirements-runtime.lock \
    && .venv/bin/python -m pip install --no-cache-dir --require-hashes --no-deps -r requirements-nodeps.lock
COPY . .
# Bytecode in the image: the workflow sandbox imports the workflow modules again for every
# workflow it starts, and on a read-only root filesystem each import would compile them anew.
RUN .venv/bin/python -m pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && .venv/bin/python -m compileall -q api activities config domain mocks policies store vendors vision workers workflows
ENV PATH=/app/.venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1
CMD ["python", "-m", "api", "--host", "0.0.0.0"]
