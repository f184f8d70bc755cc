# One image for the API, the mocks and both workers; the command picks the process.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts
RUN python -m venv .venv && scripts/bootstrap.sh
COPY . .
ENV PATH=/app/.venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1
CMD ["python", "-m", "api", "--host", "0.0.0.0"]
